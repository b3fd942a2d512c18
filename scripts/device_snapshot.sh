#!/bin/bash
# One short device run: record a real `dnnfix env --json` snapshot on an NVIDIA GPU (issue 12).
set -u
PY=$(command -v python3 || command -v python)
$PY -m pip install -q -e . nvidia-ml-py >/dev/null 2>&1 && echo "pip install: ok" || echo "pip install: failed (offline?)"
$PY -c "import pynvml" 2>/dev/null && echo "nvml binding: present" || echo "nvml binding: absent"
run() { if command -v dnnfix >/dev/null; then dnnfix "$@"; else $PY -c "import sys; sys.path.insert(0, '.'); from dnnfix.cli import main; sys.exit(main(sys.argv[1:]))" "$@"; fi; }
nvidia-smi > $OUT/nvidia-smi.txt 2>&1; head -12 $OUT/nvidia-smi.txt
timeout 60 bash -c "$(declare -f run); PY=$PY; run env --json --redact --frameworks" > $OUT/snapshot.json 2> $OUT/env.err; echo "env rc=$?"
$PY - <<'P'
import json, os
d = json.load(open(os.environ["OUT"] + "/snapshot.json"))
print("gpus", d.get("gpus")); print("driver", d.get("driver")); print("cuda", d.get("cuda"))
print("frameworks", json.dumps(d.get("frameworks"))[:600]); print("probes", d.get("probes")); print("elapsed_ms", d.get("elapsed_ms"))
P
for mode in --quick ""; do for i in 1 2 3; do run env --json $mode | $PY -c "import json,sys; print('probe${mode:- full}', json.load(sys.stdin).get('elapsed_ms'))"; done; done
run doctor --env $OUT/snapshot.json > $OUT/doctor.txt 2>&1; echo "doctor rc=$?"; cat $OUT/doctor.txt | head -30
printf '>>> import torch\n>>> torch.cuda.is_available()\nTrue\n' > /tmp/p.txt; run match --env $OUT/snapshot.json /tmp/p.txt | head -8
