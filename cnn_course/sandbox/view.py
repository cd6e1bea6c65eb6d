"""The kernel's view of the file system: what is covered by an empty tmpfs, what shows again.

:func:`plan_view` decides, as root, before anything is mounted: the course root and the
repository of ``cnn_course`` and ``cnn_solutions`` are covered, and only Python, its
packages and ``cnn_probe`` come back, read-only. :func:`mount_view` mounts that plan in a
private mount namespace; :func:`expose` makes folders reachable for another user.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cnn_course.sandbox.syscalls import (
    MS_BIND,
    MS_NODEV,
    MS_NOSUID,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    SandboxError,
    _mount,
    mount_tmpfs,
    unshare_mounts,
)

# The reference and the grading engine, and the course's own code: never in the kernel.
SECRET_PACKAGES = ("cnn_solutions", "cnn_course")
PROBE_PACKAGE = "cnn_probe"
# Private, writable tmpfs for every kernel; /run is covered read-only (it holds the
# private folders of other kernels, sockets, and /run/lock, writable by anyone).
PRIVATE_TMP = (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"))
COVERED_ALWAYS = (Path("/run"),)


@dataclass(frozen=True)
class Identity:
    """Who the kernel runs as: a uid of its own, the sandbox user's group, no passwd entry."""

    uid: int
    gid: int
    name: str


@dataclass
class View:
    """The kernel's file system, planned as root before anything is mounted.

    Attributes
    ----------
    covers : dict
        Folder -> tmpfs options: each is covered by an empty tmpfs.
    keeps : dict
        Path -> writable: shown again (bind-mounted, read-only unless writable) inside
        the innermost cover above it.
    """

    covers: dict[Path, str] = field(default_factory=dict)
    keeps: dict[Path, bool] = field(default_factory=dict)


# --------------------------------------------------------------------------- what is where


def package_dirs(names: Iterable[str] = SECRET_PACKAGES) -> list[Path]:
    """The folders of top-level packages ``names``, wherever installed, without importing them.

    ``find_spec`` of a top-level name runs no code of the package.
    """
    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        if spec.submodule_search_locations:
            found.extend(Path(entry) for entry in spec.submodule_search_locations)
        elif spec.origin:
            found.append(Path(spec.origin))  # a single-file module
    return [Path(os.path.realpath(path)) for path in found if os.path.exists(path)]


def needed_paths(extra: Iterable[Path] = ()) -> set[Path]:
    """What the kernel must read: this Python, its ``sys.path`` folders, the probe, ``extra``.

    Both as written and with links resolved (a venv's ``bin/python`` links to the base).
    """
    paths = {Path(sys.base_prefix), Path(sys.base_exec_prefix), Path(sys.prefix), *extra}
    paths.add(Path(sys.executable).parent)
    paths.update(Path(entry) for entry in sys.path if entry and os.path.isdir(entry))
    paths.update(package_dirs([PROBE_PACKAGE]))
    found = {Path(os.path.abspath(p)) for p in paths}
    return found | {Path(os.path.realpath(p)) for p in found}


def _can_enter(path: Path, uid: int, gid: int) -> bool:
    """Whether ``uid`` (in group ``gid`` only) may traverse directory ``path``."""
    info = os.stat(path)
    if info.st_uid == uid:
        return bool(info.st_mode & 0o100)
    if info.st_gid == gid:
        return bool(info.st_mode & 0o010)
    return bool(info.st_mode & 0o001)


def blocked_ancestor(path: Path, who: Identity | pwd.struct_passwd) -> Path | None:
    """The outermost folder on the way to ``path`` (itself included) ``who`` cannot enter."""
    uid, gid = _ids(who)
    for folder in [*reversed(path.parents), path]:
        if folder.is_dir() and not _can_enter(folder, uid, gid):
            return folder
    return None


def _ids(who: Identity | pwd.struct_passwd) -> tuple[int, int]:
    if isinstance(who, Identity):
        return who.uid, who.gid
    return who.pw_uid, who.pw_gid


def _inside(path: Path, folders: Iterable[Path]) -> bool:
    return any(path.is_relative_to(folder) for folder in folders)


def plan_view(
    secrets: set[Path],
    packages: list[Path],
    keeps: set[Path],
    who: Identity | pwd.struct_passwd,
    writable: Iterable[Path] = (),
) -> View:
    """Plan the kernel's file system: what to cover with an empty tmpfs, what to show again.

    Parameters
    ----------
    secrets : set of Path
        Folders the kernel must not see (the course root, the packages' repository), but
        for the ``keeps`` inside them (a venv inside the course root).
    packages : list of Path
        Package folders that must vanish even from inside a kept folder (``cnn_solutions``
        installed into site-packages): their parent is covered, and every other entry of
        it shown again.
    keeps : set of Path
        Paths the kernel needs (:func:`needed_paths`). One that contains a secret or is
        inside a package folder is dropped: it would show the secret again.
    who : Identity
        The kernel's uid and gid: folders on the way to a keep that it cannot enter
        (``/root``, mode 700, above a pyenv Python) are covered too.
    writable : iterable of Path
        Keeps shown read-write (the private folder, for the ZMQ sockets).
    """
    view = View()
    writable = set(writable)
    kept = {
        path
        for path in keeps | writable
        if not any(secret.is_relative_to(path) for secret in secrets)
        and not _inside(path, packages)
        and os.path.lexists(path)
    }
    for secret in secrets:
        view.covers[secret] = "mode=755,size=1m"
    for package in packages:
        parent = package.parent
        if _inside(package, secrets) and not _inside(package, kept):
            continue  # gone with its covered repository
        if parent == Path("/"):
            raise SandboxError(f"cannot hide {package}, a folder of /")
        view.covers[parent] = "mode=755,size=1m"
        for entry in os.scandir(parent):
            path = Path(entry.path)
            if path not in packages:
                view.keeps[path] = False
    for path in kept:
        view.keeps[path] = path in writable
    for path in sorted(kept):
        blocker = blocked_ancestor(path, who)
        if blocker == Path("/"):
            raise SandboxError(f"the kernel cannot enter /, so not {path}")
        if blocker is not None and blocker != path:
            view.covers.setdefault(blocker, "mode=755,size=1m")
    return view


def _owner_cover(path: Path, covers: Iterable[Path]) -> Path | None:
    """The innermost cover strictly above ``path``."""
    above = [cover for cover in covers if path != cover and path.is_relative_to(cover)]
    return max(above, key=lambda cover: len(cover.parts), default=None)


def mount_view(view: View) -> dict[Path, list[Path]]:
    """Mount ``view`` in this process's (private) mount namespace.

    Every kept path is opened (``O_PATH``) before anything is covered, then each cover,
    outermost first, gets its tmpfs and, inside it, the kept paths it hid, bind-mounted
    from those handles (a link is made again as a link). A cover hidden by an outer one
    and not shown again is skipped.

    Returns
    -------
    dict
        Cover -> the kept paths shown inside it.
    """
    covers = sorted(view.covers, key=lambda cover: len(cover.parts))
    groups: dict[Path, list[Path]] = {}
    for path in sorted(view.keeps):
        owner = _owner_cover(path, covers)
        if owner is None or path in view.covers:
            continue  # visible as it is
        group = groups.setdefault(owner, [])
        if not any(path.is_relative_to(other) for other in group):
            group.append(path)
    handles: dict[Path, int | str] = {}
    for group in groups.values():
        for path in group:
            if os.path.islink(path):
                handles[path] = os.readlink(path)
            else:
                handles[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        for cover in covers:
            if groups.get(cover) and not os.path.lexists(cover):
                make_path(cover)  # hidden by an outer cover, but holds something kept
            if not os.path.isdir(cover) or os.path.islink(cover):
                continue
            mount_tmpfs(cover, view.covers[cover])
            for path in groups.get(cover, []):
                _show_again(cover, path, handles[path], view.keeps[path])
    finally:
        for handle in handles.values():
            if isinstance(handle, int):
                os.close(handle)
    return groups


def make_path(path: Path) -> None:
    """``mkdir -p`` with mode 755 whatever the umask (in a cover's tmpfs, root's)."""
    missing = [folder for folder in [*reversed(path.parents), path] if not folder.exists()]
    for folder in missing:
        folder.mkdir(mode=0o755)
        os.chmod(folder, 0o755)


def _make_parents(cover: Path, path: Path) -> None:
    for folder in reversed(path.relative_to(cover).parents):
        if str(folder) != ".":
            (cover / folder).mkdir(mode=0o755, exist_ok=True)
            os.chmod(cover / folder, 0o755)  # whatever the umask


def _show_again(cover: Path, path: Path, handle: int | str, writable: bool) -> None:
    _make_parents(cover, path)
    if isinstance(handle, str):
        os.symlink(handle, path)
        return
    if stat.S_ISDIR(os.fstat(handle).st_mode):
        path.mkdir(mode=0o755, exist_ok=True)
    else:
        path.touch(mode=0o644)
    _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC, None)
    if not writable:
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        _mount(None, path, None, flags, None)


def expose(
    paths: set[Path], who: Identity | pwd.struct_passwd, optional: frozenset[Path] = frozenset()
) -> dict[Path, list[Path]]:
    """Make ``paths`` reachable for ``who`` in a new private mount namespace of this process.

    A Python installed in root's home (pyenv, conda), behind ``/root`` (mode 700), is out
    of an unprivileged user's reach: the blocking folder is covered by an empty tmpfs in
    which only the needed folders reappear. For tests and helpers that run something as
    another user; the kernel's own view is :func:`plan_view`.

    Parameters
    ----------
    optional : frozenset of Path
        Paths not worth failing for when mount namespaces are unavailable.

    Returns
    -------
    dict
        Blocking folder -> folders shown inside it (empty if nothing was blocked).
    """
    view = plan_view(set(), [], set(), who, writable=paths)  # as they were, but reachable
    if not view.covers:
        return {}
    problem = unshare_mounts()
    if problem is not None:
        required = sorted(str(p) for p in paths if p not in optional and blocked_ancestor(p, who))
        if required:
            raise SandboxError(
                f"the kernel cannot reach {required} (blocked by "
                f"{sorted(map(str, view.covers))}) and has no mount namespace: {problem}"
            )
        return {}
    return mount_view(view)
