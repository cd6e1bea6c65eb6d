"""nbgrader's collect that trusts a submission's owner, not its name (the course's hub).

nbgrader 0.9.6 reads whose work a folder in the exchange's inbound is from its name
(``student+assignment+timestamp+random``), and any student may make folders there. So a
student could hand in work as a classmate (a folder named after them, with a later
timestamp), stop every collect with one badly named entry (nbgrader fails the whole run),
or submit a link to a file only the instructor can read, which collect, run by the
instructor, would copy into the course and the grading kernel would show in feedback.

This collect takes a folder only when it is a real folder owned by the Unix account it
names, and copies links and special files as nothing, even one swapped in while it copies
(:func:`copy_regular`); each entry it leaves is named in the log, and the other students
are collected as usual. ``cnn-course hub setup`` names it in the course's configuration
(``c.ExchangeFactory.collect``).
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import stat

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect, groupby
from nbgrader.utils import check_mode, ignore_patterns, parse_utc

from cnn_course.commands.collect import (
    REFUSED_PREFIX,
)  # `cnn-course collect` lists them from the log


def copy_regular(src: str, dst: str, log: logging.Logger | logging.LoggerAdapter) -> None:
    """Copy ``src`` if, opened without following a link, it is a regular file.

    The check and the read go through one descriptor: a file the student swaps for a link
    or a FIFO after the folder was listed is not followed, and a FIFO is opened without
    waiting for a writer (``O_NONBLOCK``), so it cannot hold the collect up.
    """
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:  # ELOOP: a link by now; ENXIO: a socket
        log.warning("Not collected: %s (%s)", src, error.strerror)
        return
    with os.fdopen(fd, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode):
            log.warning("Not collected: %s (a link or special file)", src)
            return
        with open(dst, "wb") as target:
            shutil.copyfileobj(source, target)
    os.chmod(dst, stat.S_IMODE(info.st_mode))
    os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns))


class OwnerCheckedCollect(ExchangeCollect):
    """``nbgrader collect`` of inbound folders whose owner is the student they name."""

    def _path_to_record(self, path: str) -> dict | None:  # type: ignore[override]
        name = os.path.basename(path)
        parts = name.rsplit("+", 3)
        if len(parts) < 3:
            return self._skip(name, "not named student+assignment+timestamp")
        username = parts[0]
        try:
            timestamp = parse_utc(parts[2])
            owner = pwd.getpwnam(username).pw_uid
        except (ValueError, OverflowError, KeyError):
            return self._skip(name, "its timestamp or student is not one")
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != owner:
            return self._skip(name, f"it is not a folder made by {username}")
        return {"username": username, "filename": name, "timestamp": timestamp}

    def _skip(self, name: str, why: str) -> None:
        self.log.warning("%s%s (%s)", REFUSED_PREFIX, name, why)
        return None

    def init_src(self) -> None:
        """nbgrader's ``init_src`` (0.9.6), with only the folders that pass the checks."""
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        student_id = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
        records = [r for r in map(self._path_to_record, glob.glob(pattern)) if r is not None]
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                self.duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        self.src_records = []
        for group in groupby(records, lambda item: item["username"]).values():
            latest_first = self._sort_by_timestamp(group)
            if self.duedate is not None and self.before_duedate:
                on_time = [r for r in latest_first if r["timestamp"] <= self.duedate]
                latest_first = on_time or latest_first
            self.src_records.append(latest_first[0])

    def do_copy(self, src: str, dest: str, log=None) -> None:
        """Copy regular files and folders only; a link is never followed."""
        dir_size = self.get_size(src)
        if dir_size > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError(f"Directory size is too big: {dir_size}")
        patterns = ignore_patterns(
            exclude=self.coursedir.ignore,
            include=self.coursedir.include,
            max_file_size=self.coursedir.max_file_size,
            log=self.log,
        )

        def ignore(folder: str, names: list[str]) -> set[str]:
            skipped = set(patterns(folder, names))
            for name in set(names) - skipped:
                mode = os.lstat(os.path.join(folder, name)).st_mode
                if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                    self.log.warning("Not collected: %s (a link or special file)", name)
                    skipped.add(name)
            return skipped

        shutil.copytree(
            src,
            dest,
            symlinks=True,
            ignore=ignore,
            copy_function=lambda s, d: copy_regular(s, d, self.log),
        )
        # A file swapped for a link after the listing was copied as a link: drop it unread.
        for folder, dirs, files in os.walk(dest):
            for name in [*dirs, *files]:
                path = os.path.join(folder, name)
                if os.path.islink(path):
                    self.log.warning("Not collected: %s (a link)", path)
                    os.unlink(path)
