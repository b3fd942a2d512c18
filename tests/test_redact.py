"""Secrets never leave: one redaction (dnnfix/redact.py) for reports, snapshots and the panel's captured stderr."""

import json
import os
import subprocess
import sys

import pytest

from dnnfix.redact import redact_log, redact_text, secrets

# made-up credentials of the shapes each provider uses
CASES = {
    "huggingface": ("export HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "hf_AbCdEfGhIjKl"),
    "huggingface-cli": ("huggingface-cli login --token hf_ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210", "hf_ZyXwVu"),
    "aws-key-id": ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    "aws-secret": ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    "aws-secret-env": (
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY python train.py",
        "wJalrXUtnFEMI",
    ),
    "gcp-api-key": (
        "google.api_core.exceptions.Forbidden: key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
        "AIzaSyA1b2C3",
    ),
    "gcp-service-account": (
        '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN\\n-----END PRIVATE KEY-----\\n"}',
        "MIIEvQIBADAN",
    ),
    "azure-connection": (
        "DefaultEndpointsProtocol=https;AccountName=store;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net",
        "Zm9vYmFyYmF6",
    ),
    "azure-sas": (
        "https://store.blob.core.windows.net/c/model.bin?sv=2022-11-02&sig=AbCdEf%2BGhIjKlMnOp%3D&se=2025",
        "AbCdEf%2BGh",
    ),
    "openai": (
        "openai.AuthenticationError: Incorrect API key provided: sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        "AbCdEfGhIjKlMnOp",
    ),
    "slack-token": ("SLACK_BOT=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-1234"),
    "slack-webhook": (
        "POST https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "T00000000/B0000",
    ),
    "authorization-header": (
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXZhbHVl",
        "eyJhbGciOiJIUzI1",
    ),
    "bearer-opaque": ("curl -H 'Authorization: token ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'", "ghp_AbCdEfGh"),
    "ssh-private-key": (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACB\n-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXkt",
    ),
    "rsa-private-key": (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
        "MIIEpAIBAAKCAQEA7",
    ),
    "pip-index-url": (
        "Looking in indexes: https://deploy:s3cr3tPassw0rd@pypi.internal.example/simple",
        "s3cr3tPassw0rd",
    ),
    "postgresql-url": (
        "sqlalchemy.exc.OperationalError: postgresql://ml:hunter2hunter2@db:5432/runs",
        "hunter2hunter2",
    ),
    "git-token-url": (
        "fatal: unable to access 'https://oauth2:glpat-AbCdEfGhIjKlMnOpQrSt@gitlab.example/x.git/'",
        "glpat-AbCdEf",
    ),
    "password-assign": ("mlflow: MLFLOW_TRACKING_PASSWORD='correct-horse-battery'", "correct-horse"),
    "wandb": ("wandb: WANDB_API_KEY=0123456789abcdef0123456789abcdef01234567", "0123456789abcdef"),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_kind_of_secret_is_removed(kind):
    text, secret = CASES[kind]
    out = secrets(text)
    assert secret not in out, out
    assert "<redacted>" in out


@pytest.mark.parametrize(
    "text",
    [
        "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 14.75 GiB total capacity)",
        "TypeError: __init__() got an unexpected keyword argument 'use_auth_token'",
        "ValueError: Asking to pad but the tokenizer does not have a padding token. Please select a token to use as "
        "`pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)`",
        "Setting `pad_token_id` to `eos_token_id`:50256 for open-end generation.",
        "OSError: [Errno 28] No space left on device: '/root/.cache/huggingface/hub/models--x/blobs/1f2e3d'",
        "ImportError: /usr/lib/python3/site-packages/flash_attn_2_cuda.cpython-310-x86_64-linux-gnu.so: undefined "
        "symbol: _ZN3c104cuda9SetDeviceEi",
        "Could not load library libcudnn_cnn_infer.so.8. Error: libnvrtc.so: cannot open shared object file",
    ],
)
def test_error_wording_is_kept(text):
    """The point of a report is the failure: ordinary messages, symbols and hashes pass untouched."""
    assert secrets(text) == text


def test_home_and_names(monkeypatch):
    out = redact_text(
        "File /home/alice/proj/train.py and C:\\Users\\bob\\x.py on node-gpu-17",
        homes=["/home/alice"],
        names=["node-gpu-17"],
    )
    assert "alice" not in out and "bob" not in out and "node-gpu-17" not in out
    assert "~/proj/train.py" in out


def test_log_redaction_keeps_the_log():
    home = os.path.expanduser("~")
    log = f"W0000 tensorflow warning\nHF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123 in {home}/x\n"
    out = redact_log(log)
    assert "hf_AbCd" not in out and "W0000 tensorflow warning" in out
    if len(home) > 3:
        assert home not in out


def test_report_bundle_holds_no_secret(tmp_path):
    """`dnnfix report` on a paste full of credentials writes none of them (text, diagnosis or environment)."""
    paste = "\n".join(t for t, _ in CASES.values()) + "\nRuntimeError: CUDA error: out of memory\n"
    f = tmp_path / "paste.txt"
    f.write_text(paste, encoding="utf-8")
    out_file = tmp_path / "r.json"
    env = dict(
        os.environ,
        DNNFIX_USER_KB=str(tmp_path / "u"),
        DNNFIX_CACHE_DIR=str(tmp_path / "c"),
        HF_TOKEN="hf_EnvironmentSecretValue0123456789ab",
    )
    r = subprocess.run(
        [sys.executable, "-m", "dnnfix", "report", str(f), "-o", str(out_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    written = out_file.read_text(encoding="utf-8")
    json.loads(written)
    for kind, (_, secret) in CASES.items():
        assert secret not in written, kind
    assert "EnvironmentSecretValue" not in written
    assert "torch.cuda.oom" in written
