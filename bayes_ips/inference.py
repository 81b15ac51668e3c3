"""Fitting results on disk: save and verify-on-load of NetCDF DataTrees.

Each fit is written to ``fits/<model>__<prior>.nc`` with root attributes that make it verifiable:
package version, model, prior (JSON), data and spec SHA-256, and seed. :func:`load_fit` checks them
against what the caller expects and raises :class:`~bayes_ips.errors.InputError` on a mismatch or
an unreadable file.
"""

from __future__ import annotations

import json
from pathlib import Path

import xarray as xr

from bayes_ips._version import __version__
from bayes_ips.analysis import Fit
from bayes_ips.errors import InputError
from bayes_ips.priors import Prior

ENGINE = "netcdf4"


def save_fit(fit: Fit, folder: Path, *, data_sha256: str, spec_sha256: str) -> Path:
    """Write one fit as NetCDF with verifiable attributes; returns the path."""
    tree = fit.tree.copy()
    tree.attrs.update(
        {
            "bayes_ips_version": __version__,
            "model": fit.model,
            "prior": json.dumps(fit.prior.as_dict(), sort_keys=True),
            "data_sha256": data_sha256,
            "spec_sha256": spec_sha256,
            "seed": fit.seed,
            "p_benefit_exact": json.dumps(
                None
                if fit.p_benefit_exact is None
                else [[h, v] for h, v in fit.p_benefit_exact.items()]
            ),
        }
    )
    path = folder / f"{fit.label}.nc"
    tree.to_netcdf(path, engine=ENGINE)
    return path


def load_fit(path: Path, *, model: str, prior: str, seed: int, data_sha256: str) -> Fit:
    """Read a saved fit and check it is the one expected.

    Raises
    ------
    InputError
        When the file is not a readable bayes_ips fit or its attributes do not match.
    """
    try:
        tree = xr.open_datatree(path, engine=ENGINE).load()
    except Exception:
        raise InputError(str(path), "not a readable NetCDF fit saved by bayes_ips") from None
    attrs = tree.attrs
    expected = {"model": model, "seed": seed, "data_sha256": data_sha256}
    if "prior" not in attrs or "posterior" not in tree.children or "p" not in tree["posterior"]:
        raise InputError(str(path), "not a bayes_ips fit (no prior attribute or posterior p)")
    for name, want in expected.items():
        if name not in attrs or (attrs[name] != want and str(attrs[name]) != str(want)):
            raise InputError(
                str(path),
                f"the saved fit does not match summary.json (expected {want!r})",
                field=name,
                value=attrs.get(name),
            )
    prior_obj = Prior.from_dict(json.loads(attrs["prior"]))
    if prior_obj.name != prior:
        raise InputError(
            str(path),
            "the saved fit's prior does not match summary.json",
            field="prior",
            value=prior_obj.name,
        )
    exact = json.loads(attrs.get("p_benefit_exact", "null"))
    return Fit(
        model,
        prior_obj,
        int(attrs["seed"]),
        tree,
        None if exact is None else {h: v for h, v in exact},
    )
