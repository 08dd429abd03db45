"""``quotaopt train`` without the disk: the model fitted for a plan year, and what its folder records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from quotaopt.capacity._estimate import fit_capacity
from quotaopt.capacity._model import CapacityModel
from quotaopt.capacity.records import ModelMetadata
from quotaopt.company import CompanyData


@dataclass(frozen=True)
class TrainedModel:
    """A fitted capacity model with the metadata it was saved with (read by :mod:`quotaopt.io`).

    Attributes
    ----------
    model : CapacityModel
    metadata : ModelMetadata
        The content of ``metadata.json`` (training years, backtest, ``model_sha256`` ...).
    folder : Path, optional
        Where it was read from.
    """

    model: CapacityModel
    metadata: ModelMetadata
    folder: Path | None = None


def train_model(company: CompanyData, plan_year: int, *, quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
                random_state: int = 0, metadata: ModelMetadata | None = None) -> TrainedModel:
    """Fit for ``plan_year``, with the backtest of that very model in the metadata.

    The backtest is the model's own rolling-origin record
    (:attr:`CapacityModel.validation_`): each validation year predicted by the same
    procedure fitted on the years before it, with the weights the saved model uses.
    :func:`quotaopt.io.save_model` writes it; ``metadata`` adds what the caller knows
    (scenario, input hashes).
    """
    model = fit_capacity(company, plan_year, quantiles, random_state)
    given = metadata.record() if metadata is not None else {}
    meta = ModelMetadata.model_validate({"plan_year": plan_year, "data_files": dict(company.files), **given,
                                         "backtest": model.validation_, "model": model.summary()})
    return TrainedModel(model, meta)
