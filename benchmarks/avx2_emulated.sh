#!/bin/bash
# Run a command's Python on an emulated AVX2-only x86 CPU (no AVX-512, no VNNI, no AMX), to check what an
# AVX2 machine computes: which kernels libraries pick (they read CPUID) and what /proc/cpuinfo tells the
# project (it reads the flags there). Speeds under emulation mean nothing; answers and decisions do.
#
#   sudo apt-get install -y qemu-user          # QEMU >= 7.2 emulates AVX2, FMA3, F16C (not AVX-512)
#   sudo benchmarks/avx2_emulated.sh -m pytest -q tests/runtime -m "not slow"
#   sudo benchmarks/avx2_emulated.sh -c "from emotion.model import load_model; print(load_model('bundled').backend)"
#
# qemu-user hands the host's /proc/cpuinfo through, so the script mounts, in a private mount namespace, a copy
# without the flags a Haswell lacks. Child processes started with sys.executable are emulated too.
# Needs root (unshare, mount). Measured with it: benchmarks/results/int8-avx2-emulated.md.
set -euo pipefail
PY=$(python3 -c 'import sys; print(sys.executable)')
HOME_PY=$(python3 -c 'import sys; print(sys.base_prefix)')
WORK=$(mktemp -d /tmp/emotion-avx2.XXXXXX)
DROP='avx512[a-z0-9_]*|avx_vnni|amx_[a-z0-9]*|vaes|vpclmulqdq|gfni|sha_ni|adx|avx_vnni_int8|avx_ifma|avx_ne_convert'
sed -E "/^flags/ s/ ($DROP)\b//g; s/^(model name\s*:).*/\1 QEMU Haswell (AVX2-only emulation)/" /proc/cpuinfo > "$WORK/cpuinfo"
cat > "$WORK/python3" <<WRAP
#!/bin/bash
export PYTHONHOME=$HOME_PY
exec qemu-x86_64 -cpu Haswell-noTSX-IBRS -0 "$WORK/python3" "$PY" "\$@" 2> >(grep -v "TCG doesn't support requested feature" >&2)
WRAP
chmod +x "$WORK/python3"
exec unshare -m sh -c "mount --bind '$WORK/cpuinfo' /proc/cpuinfo && export PATH='$WORK':\$PATH && exec '$WORK/python3' \"\$@\"" avx2 "$@"
