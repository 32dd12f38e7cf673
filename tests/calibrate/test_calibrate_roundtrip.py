"""Calibration end to end: the synthetic SSDA903 sample, the round trip, the command line.

The round trip simulates records from a known config, calibrates them, and
runs the engine on both the known config and the calibrated one, from the same
starting caseload (the records' open placements). The two outturn
distributions must agree within Monte Carlo error plus the calibration's own
stated uncertainty: the calibrated config carries each figure's standard error
as a distribution, so the spread it adds over a point-estimate run *is* the
calibration's uncertainty about the mean outturn.
"""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import simulator
from simulator.calibrate import calibrate, load_packages, load_ssda903, to_toml
from simulator.calibrate.calibration import horizon_start_year
from simulator.calibrate.output import fit_table
from simulator.calibrate.plots import service_figure
from simulator.calibrate.records import to_day
from simulator.calibrate.synthetic import simulate_records
from simulator.cli.app import main
from simulator.config.load import config_from_dict

DATA = Path(__file__).parents[1] / "data"
BROMLEY = DATA / "ssda903_bromley"
SHARED = Path("/work/shared/data/ssda903-synthetic")
Z = 4.0

TRUTH = {
    "council": {"name": "Round Trip Council"},
    "horizon": {"start": "2024/25", "years": 1},
    "services": {
        "ifa_fostering": {
            "budget_gbp": 0,
            "arrivals": {"per_year": 300, "growth": 0.03, "dispersion": 0.05},
            "length": {"dist": "lognormal", "median_weeks": 60, "sigma": 1.0},
            "unit_cost": {"mean_gbp_per_week": 820, "cv": 0.2},
        },
        "childrens_homes": {
            "budget_gbp": 0,
            "arrivals": {"per_year": 80, "growth": 0.05},
            "length": {"dist": "gamma", "mean_weeks": 40, "shape": 1.5},
            "unit_cost": {
                "mean_gbp_per_week": 5600,
                "cv": 0.25,
                "high_cost_share": 0.12,
                "high_cost_mean_gbp_per_week": 11500,
                "high_cost_cv": 0.2,
            },
        },
    },
}


# ---------------------------------------------------------------- the synthetic SSDA903 sample


@pytest.fixture(scope="module")
def bromley():
    records = load_ssda903(BROMLEY / "episodes.csv", header=BROMLEY / "header.csv")
    cal = calibrate(records)
    return cal, to_toml(cal, budget_draws=200)


def test_synthetic_sample_calibrates_and_runs(bromley):
    cal, text = bromley
    config = simulator.loads_config(text)
    assert set(config.services) == {
        "in_house_fostering",
        "ifa_fostering",
        "family_and_friends",
        "childrens_homes",
        "supported_accommodation",
        "other",
    }
    assert config.horizon.start == "2022/23"
    ds = simulator.run(config, draws=100, seed=1)
    assert np.all(np.isfinite(ds["outturn"].values))
    for key, svc in config.services.items():
        elapsed = svc.caseload.elapsed_weeks
        assert len(elapsed) == len(next(s for s in cal.services if s.key == key).caseload_start)


def comments_by_table(text: str) -> dict[str, str]:
    """The comments above each table header and above its keys, joined into one text."""
    tables, pending, current = {}, [], None
    for line in text.splitlines():
        if line.startswith("#"):
            pending.append(line.lstrip("# "))
        elif line.startswith("["):
            current = line.strip("[]")
            tables[current], pending = pending, []
        elif line.strip() and current is not None:
            tables[current] += pending
            pending = []
    return {name: " ".join(lines) for name, lines in tables.items()}


def test_every_fitted_figure_is_commented(bromley):
    _, text = bromley
    tables = comments_by_table(text)
    assert sum(name.endswith(".arrivals") for name in tables) == 6
    for name, comments in tables.items():
        if name.endswith(".arrivals"):
            assert "placements started in the" in comments and "AIC" in comments
            assert "Pearson" in comments and "(SE " in comments
        if name.endswith(".length"):
            assert "Censored maximum likelihood on" in comments and "AIC:" in comments
            assert "Kaplan-Meier" in comments and "(SE " in comments
        if name.endswith(".unit_cost"):
            assert "Not fitted: the records give no weekly costs" in comments
        if name.endswith(".caseload"):
            assert "placements open on 2022-03-31" in comments
    assert text.count("PLACEHOLDER, not a budget") == 6


def test_full_synthetic_sample():
    if not (SHARED / "episodes.csv").exists():
        pytest.skip("the shared synthetic sample is not on this machine")
    records = load_ssda903(SHARED / "episodes.csv", header=SHARED / "header.csv")
    assert "records of 3 councils" in "\n".join(records.log.notes)
    cal = calibrate(records)
    simulator.loads_config(to_toml(cal, budget_draws=100))
    one = calibrate(load_ssda903(SHARED / "episodes.csv", la="Southwark"))
    assert len(one.services) == 6


def test_plots_show_what_they_must(bromley):
    cal, _ = bromley
    svc = cal.services[0]
    fig = service_figure(svc, cal)
    survival, arrivals = fig.axes[:2]
    labels = [line.get_label() for line in survival.get_lines()]
    assert "Kaplan-Meier" in labels
    assert any(label.endswith(" - chosen") for label in labels)
    assert (
        sum(
            label.split(" ")[0] in {"lognormal", "gamma", "weibull", "exponential"}
            for label in labels
        )
        == 4
    )
    assert any("95% band" in c.get_label() for c in survival.collections)
    labels = [line.get_label() for line in arrivals.get_lines()]
    assert {"observed starts", "first forecast year"} <= set(labels)
    observed = next(line for line in arrivals.get_lines() if line.get_label() == "observed starts")
    assert observed.get_ydata().sum() == svc.arrivals.data.total


# ---------------------------------------------------------------- round trip


def _outturn(config, seed: int, draws: int) -> dict[str, np.ndarray]:
    ds = simulator.run(config, draws=draws, seed=seed)
    out = ds["outturn"].sel(financial_year="2024/25")
    return {k: out.sel(service=k).values for k in ("ifa_fostering", "childrens_homes", "total")}


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    truth = config_from_dict(TRUTH)
    folder = tmp_path_factory.mktemp("roundtrip")
    path = folder / "packages.csv"
    simulate_records(truth, "2018-04-01", "2024-03-31", seed=21).to_csv(path, index=False)
    records = load_packages(path)
    uncertain = calibrate(records, as_of="2024-03-31")
    point = calibrate(records, as_of="2024-03-31", parameter_uncertainty=False)
    text = to_toml(uncertain, budget_draws=200)
    # The known config, started from the same caseload as the calibrated one.
    known = copy.deepcopy(TRUTH)
    calibrated = tomllib.loads(text)
    for key, svc in known["services"].items():
        svc["caseload"] = calibrated["services"][key]["caseload"]
    draws = 3000
    return {
        "cal": uncertain,
        "truth": _outturn(config_from_dict(known), 1, draws),
        "calibrated": _outturn(simulator.loads_config(text), 2, draws),
        "point": _outturn(simulator.loads_config(to_toml(point, budget_draws=200)), 3, draws),
        "draws": draws,
    }


def arrival_checks(fit, per_year: float, growth: float) -> list[tuple[float, float, float]]:
    """(estimate, SE, truth) of the arrivals: what is written (the trend, with the prior) and
    the trend model's growth against the truth at the horizon start; without a significant
    trend, the flat model's rate against the truth's average over the records (2018/19 to
    2023/24)."""
    checks = [
        (fit.per_year, fit.per_year_se, per_year),
        (fit.growth, fit.growth_se, growth),
        (fit.trend_growth, fit.trend_growth_se, growth),
    ]
    if fit.trend:
        return checks
    b = math.log1p(growth)
    average = per_year * (1 - math.exp(-6 * b)) / (6 * b)
    return [*checks, (fit.flat.per_year, fit.flat.per_year_se, average)]


def test_round_trip_recovers_the_known_figures(round_trip):
    fits = {s.key: s for s in round_trip["cal"].services}
    ifa, homes = fits["ifa_fostering"], fits["childrens_homes"]
    checks = [
        *arrival_checks(ifa.arrivals, 300, 0.03),
        *arrival_checks(homes.arrivals, 80, 0.05),
        (
            ifa.lengths.fits["lognormal"].value("scale"),
            ifa.lengths.fits["lognormal"].se("scale"),
            60,
        ),
        (
            ifa.lengths.fits["lognormal"].value("shape"),
            ifa.lengths.fits["lognormal"].se("shape"),
            1.0,
        ),
        (ifa.costs.mean, ifa.costs.mean_se, 820),
        (homes.lengths.fits["gamma"].value("scale"), homes.lengths.fits["gamma"].se("scale"), 40),
        (homes.lengths.fits["gamma"].value("shape"), homes.lengths.fits["gamma"].se("shape"), 1.5),
    ]
    for estimate, se, truth in checks:
        assert abs(estimate - truth) < Z * se, (estimate, se, truth)


@pytest.mark.parametrize("service", ["ifa_fostering", "childrens_homes", "total"])
def test_round_trip_outturn_agrees(round_trip, service):
    truth = round_trip["truth"][service]
    calibrated = round_trip["calibrated"][service]
    point = round_trip["point"][service]
    n = round_trip["draws"]
    # The calibration's uncertainty about the mean outturn: the variance its stated
    # parameter uncertainty adds over a run at the point estimates.
    parameter_var = max(calibrated.var() - point.var(), 0.0)
    for p in (0.1, 0.5, 0.9):
        # Monte Carlo SE of a sample quantile, for a normal shape: sd sqrt(p(1-p)/n) / phi(z_p).
        density = stats.norm.pdf(stats.norm.ppf(p))
        mc = [x.std() * math.sqrt(p * (1 - p) / n) / density for x in (truth, calibrated)]
        tolerance = Z * math.sqrt(mc[0] ** 2 + mc[1] ** 2 + parameter_var)
        gap = np.quantile(calibrated, p) - np.quantile(truth, p)
        assert abs(gap) < tolerance, (p, gap, tolerance)
    # The calibrated run is wider than the point-estimate run only by its parameter uncertainty.
    assert calibrated.std() >= point.std() * (1 - Z / math.sqrt(2 * n))
    # And the point-estimate spread matches the truth's within Monte Carlo error and the
    # effect of the estimated scale (sd of outturn grows with its mean).
    ratio = (point.std() / truth.std()) / (point.mean() / truth.mean())
    assert (
        abs(math.log(ratio)) < Z * math.sqrt(2 / (2 * n)) + math.sqrt(parameter_var) / point.mean()
    )


def test_point_estimates_option_writes_plain_numbers(round_trip):
    cal = round_trip["cal"]
    cal_point = copy.copy(cal)
    cal_point.parameter_uncertainty = False
    data = tomllib.loads(to_toml(cal_point, budget_draws=50))
    for svc in data["services"].values():
        assert isinstance(svc["arrivals"]["per_year"], float)
        assert isinstance(
            svc["length"]["mean_weeks" if "mean_weeks" in svc["length"] else "median_weeks"], float
        )


def test_known_costs_go_into_the_caseload(round_trip):
    cal = round_trip["cal"]
    homes = next(s for s in cal.services if s.key == "childrens_homes")
    assert np.isfinite(homes.caseload_cost).all()
    assert homes.costs.n >= 100
    table = fit_table(cal)
    assert set(table["part"]) == {"arrivals", "length", "unit_cost"}
    chosen = table[
        (table["service"] == "childrens_homes") & table["chosen"] & (table["part"] == "length")
    ]
    assert set(chosen["model"]) == {homes.lengths.chosen.name}


# ---------------------------------------------------------------- command line


@pytest.mark.slow
def test_cli_calibrates_and_the_config_runs(tmp_path, capsys):
    out = tmp_path / "calibration"
    args = [
        "calibrate",
        "--episodes",
        str(BROMLEY / "episodes.csv"),
        "--header",
        str(BROMLEY / "header.csv"),
    ]
    assert main([*args, "--out", str(out), "--as-of", "31/03/2022"]) == 0
    printed = capsys.readouterr().out
    assert "Budgets in the config are placeholders" in printed
    names = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.name != ".overspend"
    )
    config = (
        "bromley_calibrated_2022-03-31.toml"  # the council (the records' LA) and the as-of date
    )
    assert f"Config: {config} (overspend run {out / config})" in printed
    assert names == [
        config,
        "caseload.csv",
        "fits.csv",
        *[
            f"plots/{k}.png"
            for k in sorted(
                [
                    "in_house_fostering",
                    "ifa_fostering",
                    "family_and_friends",
                    "childrens_homes",
                    "supported_accommodation",
                    "other",
                ]
            )
        ],
        "problems.csv",
    ]
    assert main(["run", str(out / config), "--draws", "50", "--out", str(tmp_path / "r")]) == 0
    # An existing folder is not replaced without --force.
    assert main([*args, "--out", str(out)]) == 2
    assert "already exists: use --force" in capsys.readouterr().err
    assert main([*args, "--out", str(out), "--force", "--no-plots"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give the records to calibrate from"),
        (["--header", "h.csv"], "--header, --mapping and --la go with --episodes"),
        (
            ["--episodes", str(DATA / "bad_episodes.csv"), "--strict"],
            "bad_episodes.csv: 6 bad rows",
        ),
        (["--episodes", str(DATA / "nope.csv")], "no such file"),
        (["--packages", str(DATA / "bad_packages.csv")], "no service could be calibrated"),
    ],
)
def test_cli_errors_are_messages_not_tracebacks(tmp_path, capsys, args, message):
    assert main(["calibrate", *args, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cli_writes_the_default_mapping_to_edit(tmp_path):
    path = tmp_path / "mapping.toml"
    assert main(["calibrate", "--write-mapping", str(path)]) == 0
    records = load_ssda903(BROMLEY / "episodes.csv", mapping=path)
    assert "ifa_fostering" in records.services


# ---------------------------------------------------------------- as-of date and period


@pytest.mark.parametrize(
    ("as_of", "start_year"),
    [("2024-03-31", 2024), ("2024-03-30", 2024), ("2024-04-01", 2025), ("2023-12-31", 2024)],
)
def test_horizon_starts_on_the_first_april_after_the_as_of_date(as_of, start_year):
    assert horizon_start_year(to_day(as_of)) == start_year


def test_an_earlier_as_of_date_replays_what_was_known_then():
    records = load_ssda903(BROMLEY / "episodes.csv")
    cal = calibrate(records, as_of="2020-03-31", since="2018-04-01")
    assert cal.horizon_start == "2020/21" and cal.ignored_after > 0
    assert cal.observed_from == {"episodes.csv": to_day("2018-04-01")} and not cal.inferred_from
    for svc in cal.services:
        assert svc.arrivals.data.month[-1] == np.datetime64("2020-03")
        assert np.all(svc.caseload_start <= to_day("2020-03-31"))
    later = calibrate(records, as_of="2021-09-30")
    assert any("days before the horizon starts" in w for w in later.warnings)


def test_write_mapping_to_a_bad_path_is_a_message(tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "mapping.toml"
    assert main(["calibrate", "--write-mapping", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"--write-mapping {missing}: cannot write" in err and "No such file" in err
    folder = tmp_path / "a_folder"
    folder.mkdir()
    assert main(["calibrate", "--write-mapping", str(folder), "--force"]) == 2
    err = capsys.readouterr().err
    assert f"--write-mapping {folder} is a folder, not a file" in err
