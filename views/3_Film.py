"""Film page: a per-scene emotion timeline of an uploaded film (logic in emotion.ui.film_page and emotion.film)."""

from emotion.ui import run_page
from emotion.ui.film_page import render

run_page("Film", ":material/movie:", render)
