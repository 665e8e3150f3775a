"""A PEP 517 build backend with no requirements, so `pip install ./bindings/python` works offline.

The package is pure Python (ctypes over the installed libprism), so a wheel is a zip of prism/
and its metadata: nothing to download, not even setuptools. The metadata comes from the
[project] table of pyproject.toml.
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "prism"


def _project():
    """The [project] table: name, version, description, requires-python, dependencies."""
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        text = f.read().decode("utf-8")
    try:
        import tomllib
        return tomllib.loads(text)["project"]
    except ImportError:  # Python < 3.11: the few keys this file uses, read by hand
        section = re.search(r"^\[project\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S).group(1)
        out = dict(re.findall(r'^([\w-]+)\s*=\s*"([^"]*)"', section, re.M))
        deps = re.search(r"^dependencies\s*=\s*\[(.*?)\]", section, re.M | re.S)
        out["dependencies"] = re.findall(r'"([^"]+)"', deps.group(1)) if deps else []
        return out


def _dist_name(project):
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


def _metadata(project):
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}",
             f"Version: {project['version']}", f"Summary: {project.get('description', '')}"]
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {d}" for d in project.get("dependencies", [])]
    readme = os.path.join(HERE, "README.md")
    body = ""
    if os.path.exists(readme):
        lines.append("Description-Content-Type: text/markdown")
        with open(readme, encoding="utf-8") as f:
            body = f.read()
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def _package_files():
    root = os.path.join(HERE, PACKAGE)
    for name in sorted(os.listdir(root)):
        if name.endswith(".py"):
            yield f"{PACKAGE}/{name}", os.path.join(root, name)


def _write_wheel(wheel_directory, extra):
    """A py3-none-any wheel holding `extra` ({archive name: bytes}) and the dist-info."""
    project = _project()
    dist = f"{_dist_name(project)}-{project['version']}"
    info = f"{dist}.dist-info"
    files = dict(extra)
    files[f"{info}/METADATA"] = _metadata(project)
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: libprism-backend\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    filename = f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {}
    for name, path in _package_files():
        with open(path, "rb") as f:
            files[name] = f.read()
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """An editable install: a .pth file that puts this folder on sys.path."""
    name = _dist_name(_project())
    return _write_wheel(wheel_directory, {f"__editable__.{name}.pth": (HERE + "\n").encode()})


def build_sdist(sdist_directory, config_settings=None):
    project = _project()
    base = f"{_dist_name(project)}-{project['version']}"
    filename = f"{base}.tar.gz"
    members = ["pyproject.toml", "README.md", "_build/backend.py"]
    members += [name for name, _ in _package_files()]
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as t:
        for rel in members:
            t.add(os.path.join(HERE, rel), arcname=f"{base}/{rel}")
        pkg_info = _metadata(project)
        ti = tarfile.TarInfo(f"{base}/PKG-INFO")
        ti.size, ti.mtime = len(pkg_info), int(time.time())
        t.addfile(ti, io.BytesIO(pkg_info))
    return filename
