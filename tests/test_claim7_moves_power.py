"""Power test for claim7b's output-preservation guard in check_pgb: V[theta, eps] contains only moves that keep
f_X (||Delta f_X|| <= 1e-12 max(1, ||f_X||)). The move generator is correct, so the guard never fired and ignoring
it survived. A move generator patched to add one output-CHANGING move (a random step of norm EPS_MOVE) at the YSJ
tight instance must make check_pgb fail, naming the move."""
from __future__ import annotations

import torch

from claims import claim7_pgb as c7


def test_claim7_pgb_refuses_an_output_changing_move(monkeypatch):
    inst = c7.ysj_tight_instance()
    assert c7.check_pgb(inst).passed  # honest moves: the identity holds (with equality)
    real = c7.output_preserving_moves

    def with_a_bad_move(model, theta, X, eps=c7.EPS_MOVE):
        d = torch.randn(theta.numel(), generator=torch.Generator().manual_seed(0), dtype=theta.dtype)
        return list(real(model, theta, X, eps)) + [c7.Move("rescale", 1, 0, theta + eps * d / d.norm())]

    monkeypatch.setattr(c7, "output_preserving_moves", with_a_bad_move)
    rec = c7.check_pgb(inst)
    assert rec.passed is False, rec.reason
    assert "a move changed the outputs" in rec.reason, rec.reason
