"""requirements.lock (pip) and environment.yml (conda) pin the same packages and versions."""

import re

import yaml

from conftest import ROOT


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[norm(name)] = version
    return pins


def conda_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for p in dep["pip"]:
                if "==" in p:
                    name, version = p.split("==")
                    pins[norm(name)] = version
        elif "=" in dep and not dep.startswith("python="):
            name, version = dep.split("=")
            pins[norm(name)] = version
    return pins


def test_environment_yml_matches_lock():
    lock, conda = lock_pins(), conda_pins()
    lines = (ROOT / "requirements.in").read_text().splitlines()
    top = [norm(re.split(r"[=<>~!;\s#]", x.strip(), maxsplit=1)[0]) for x in lines]
    top = [t for t in top if t]
    assert set(conda) == set(top), "environment.yml must list exactly the packages of requirements.in"
    for name in top:
        assert name in lock, f"{name} is not pinned in requirements.lock"
        assert conda[name] == lock[name], f"{name}: environment.yml {conda[name]} != lock {lock[name]}"


def test_every_lock_line_is_an_exact_pin():
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9.+!\-]+", line), line
