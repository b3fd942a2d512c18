"""CUDA/cuDNN library discovery: file-name versions, the loader cache, /proc/self/maps, pip wheels."""

import os

import pytest

from dnnfix import probe
from dnnfix.probe import _util, libs


@pytest.mark.parametrize(
    "name,expected",
    [
        ("libcudnn.so.8.9.2", ("cudnn", "8.9.2")),
        ("libcudnn.so.9", ("cudnn", "9")),
        ("libcudnn.so", ("cudnn", None)),
        ("libcudart.so.12.2.140", ("cudart", "12.2.140")),
        ("libcudart-d0da41ae.so.11.0", ("cudart", "11.0")),
        ("libcublasLt.so.12", ("cublaslt", "12")),
        ("libcuda.so.535.104.05", ("libcuda", "535.104.05")),
        ("libnvidia-ml.so.1", ("nvml", "1")),
        ("cudart64_110.dll", ("cudart", "11.0")),
        ("cudart64_12.dll", ("cudart", "12")),
        ("cudnn64_8.dll", ("cudnn", "8")),
        ("libcudnn_ops_infer.so.8", None),
        ("libcuda.so.1.1", ("libcuda", "1.1")),
        ("libfoo.so.1", None),
    ],
)
def test_library_file_names_give_name_and_version(name, expected):
    """Library file names map to a short name and the version they carry."""
    assert libs._parse(name) == expected


@pytest.mark.parametrize(
    "value,text", [(8902, "8.9.2"), (8600, "8.6.0"), (7605, "7.6.5"), (90100, "9.1.0"), (91002, "9.10.2")]
)
def test_cudnn_version_integers(value, text):
    """cudnnGetVersion() integers decode for cuDNN 7/8 (M*1000) and 9+ (M*10000)."""
    assert _util.cudnn_int_version(value) == text


@pytest.mark.parametrize("value,text", [(12020, "12.2"), (11080, "11.8"), (13000, "13.0"), (10010, "10.1")])
def test_cuda_version_integers(value, text):
    """cudaRuntimeGetVersion / cuDriverGetVersion integers decode to major.minor."""
    assert _util.cuda_int_version(value) == text


def test_ldconfig_cache_is_read_without_a_subprocess(tmp_path):
    """Absolute CUDA library paths are pulled out of the binary loader cache."""
    blob = (
        b"glibc-ld.so.cache1.1\x00\x00libcudnn.so.8\x00/usr/lib/x86_64-linux-gnu/libcudnn.so.8\x00"
        b"libz.so.1\x00/lib/x86_64-linux-gnu/libz.so.1\x00libcudart.so.11.0\x00/usr/local/cuda-11.8/lib64/libcudart.so.11.0\x00"
    )
    cache = tmp_path / "ld.so.cache"
    cache.write_bytes(blob)
    assert libs.ldconfig_paths(str(cache)) == [
        "/usr/lib/x86_64-linux-gnu/libcudnn.so.8",
        "/usr/local/cuda-11.8/lib64/libcudart.so.11.0",
    ]


def test_loaded_libraries_come_from_proc_maps(tmp_path):
    """Mapped CUDA libraries are listed once each, with versions from their file names or wheels."""
    maps = tmp_path / "maps"
    site = "/opt/env/lib/python3.10/site-packages"
    maps.write_text(
        "7f00-7f01 r--p 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libcudnn.so.8.6.0\n"
        "7f01-7f02 r-xp 00001000 08:01 1 /usr/lib/x86_64-linux-gnu/libcudnn.so.8.6.0\n"
        f"7f02-7f03 r--p 00000000 08:01 2 {site}/nvidia/cuda_runtime/lib/libcudart.so.12\n"
        "7f03-7f04 r--p 00000000 08:01 3 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        "7f04-7f05 rw-p 00000000 00:00 0 [heap]\n"
    )
    status, out = libs.loaded({"nvidia-cuda-runtime-cu12": "12.1.105"}, maps=str(maps))
    assert status == "ok"
    assert [(e["name"], e["version"]) for e in out] == [("cudnn", "8.6.0"), ("cudart", "12.1.105")]


def test_no_proc_maps_is_unavailable(tmp_path):
    """Without /proc/self/maps the loaded-library probe says why."""
    status, out = libs.loaded({}, maps=str(tmp_path / "missing"))
    assert status.startswith("unavailable: ") and out == []


def test_pip_wheel_libraries_take_the_wheel_version(tmp_path, monkeypatch):
    """A pip nvidia-* library named only by its major gets the wheel's full version."""
    site = tmp_path / "site-packages"
    libdir = site / "nvidia" / "cudnn" / "lib"
    libdir.mkdir(parents=True)
    (libdir / "libcudnn.so.9").write_bytes(b"")
    (libdir / "libcudnn_ops.so.9").write_bytes(b"")
    monkeypatch.setattr("sys.path", [str(site)])
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    found = [e for e in libs.found({"nvidia-cudnn-cu12": "9.1.0.70"}) if e["origin"] == "pip"]
    assert [(e["name"], e["version"]) for e in found] == [("cudnn", "9.1.0.70")]


def test_symlinks_resolve_to_the_versioned_file(tmp_path, monkeypatch):
    """libcudnn.so -> libcudnn.so.8 -> libcudnn.so.8.9.2 is one library of version 8.9.2."""
    d = tmp_path / "lib64"
    d.mkdir()
    (d / "libcudnn.so.8.9.2").write_bytes(b"")
    os.symlink("libcudnn.so.8.9.2", d / "libcudnn.so.8")
    os.symlink("libcudnn.so.8", d / "libcudnn.so")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(d))
    monkeypatch.setattr("sys.path", [])
    found = [e for e in libs.found({}) if e["origin"] == "LD_LIBRARY_PATH"]
    assert [(e["name"], e["version"], os.path.basename(e["path"])) for e in found] == [
        ("cudnn", "8.9.2", "libcudnn.so.8.9.2")
    ]


def test_version_query_without_libraries_is_skipped():
    """No CUDA library anywhere: the ctypes query starts no process."""
    status, out = libs.query_versions([], [], timeout=2.0)
    assert status.startswith("skipped") and out == {}


def test_version_query_of_a_broken_library_is_contained(tmp_path):
    """A file that is not a library is reported as an error by the child, not raised here."""
    bogus = tmp_path / "libcudnn.so.8.9.9"
    bogus.write_text("not an ELF file")
    status, out = libs.query_versions(
        [], [{"name": "cudnn", "path": str(bogus), "origin": "pip", "version": "8.9.9"}], 10
    )
    assert status == "ok"
    assert "error" in out["cudnn"]


def test_pick_prefers_loaded_then_query_then_found():
    """cuda.* versions: the copy loaded in this process wins, then the queried one, then the first found."""
    loaded = [{"name": "cudnn", "version": "8.6.0", "path": "/a", "origin": "loaded"}]
    found = [{"name": "cudnn", "version": "8.9.2", "path": "/b", "origin": "pip"}]
    assert libs.pick("cudnn", loaded, {"cudnn": {"version": "8.9.7"}}, found) == ("8.6.0", "loaded")
    assert libs.pick("cudnn", [], {"cudnn": {"version": "8.9.7"}}, found) == ("8.9.7", "query")
    assert libs.pick("cudnn", [], {}, found) == ("8.9.2", "found")
    assert libs.pick("cudart", [], {}, found) == (None, None)


def test_cuda_section_lists_every_version_found(monkeypatch):
    """cuda.cudnn_versions / runtime_versions hold each distinct version on the search paths."""
    snap = {
        "libraries": {
            "loaded": [],
            "found": [
                {"name": "cudnn", "version": "8.9.2.26", "path": "/x/libcudnn.so.8", "origin": "pip"},
                {"name": "cudnn", "version": "8.6.0", "path": "/y/libcudnn.so.8.6.0", "origin": "ldconfig"},
                {"name": "cudnn", "version": "9.1.0", "path": "/t/libcudnn.so.9", "origin": "torch"},
                {"name": "cudart", "version": "12.2.140", "path": "/z/libcudart.so.12.2.140", "origin": "cuda_home"},
                {"name": "cudart", "version": "12.2.53", "path": "/w/libcudart.so.12.2.53", "origin": "conda"},
            ],
        }
    }
    probe._cuda_facts(snap, {})
    assert snap["cuda"]["cudnn_version"] == "8.9.2"
    assert snap["cuda"]["cudnn_versions"] == ["8.9.2", "8.6.0"]
    assert snap["cuda"]["runtime_version"] == "12.2"
    assert snap["cuda"]["runtime_versions"] == ["12.2"]
    assert snap["cuda"]["sources"] == {"runtime_version": "found", "cudnn_version": "found"}
