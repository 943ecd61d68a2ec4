"""Networks as pure functions of one flat float64 parameter vector.

A model is a frozen spec (shapes, activation, structure) plus functions of (theta, X). Keeping the parameters in
one vector lets torch.func take gradients, Jacobians, Hessians and vmaps of the same code.

Conventions follow the claims handbook (CLAIMS.md section 0): X has one row per sample; layer l computes
z^(l) = h^(l-1) W^(l) and h^(l) = sigma(z^(l)); the output layer is linear. A bias is a constant-1 column appended
to h^(l-1), so it is stored as the last row of W^(l).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from networks import activations

Tensor = torch.Tensor


def _as_tensor(X, name: str) -> Tensor:
    t = torch.as_tensor(X, dtype=torch.float64)
    if t.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (samples x features), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 samples")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or inf")
    return t


def check_data(X, Y) -> tuple[Tensor, Tensor]:
    """Validate a data set: 2-D, non-empty, finite, same number of rows. Returns float64 tensors."""
    X = _as_tensor(X, "X")
    Y = _as_tensor(Y, "Y")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y disagree on the number of samples: X has {X.shape[0]} rows, Y has {Y.shape[0]}")
    return X, Y


@dataclass(frozen=True)
class MLP:
    """Fully connected net d_in -> widths -> d_out with a linear output layer (unless `output_activation`).

    Structure for the claims:
    - `linear_units[l]`: indices of hidden units of layer l+1 that use the identity (S2 partial-linear paths).
    - `masks[l]`: a 0/1 array of W^(l+1)'s shape (bias row included); masked entries are not parameters
      (architecturally zero), so they add no spurious null directions to the Hessian.
    - `skip_dim`: width of a trainable linear skip S R added to the output (S = X by default, or fixed features).
    - `output_activation`: 'linear' except in negative controls (e.g. a tanh output violates claim1's hypothesis).
    """

    d_in: int
    widths: tuple[int, ...]
    d_out: int
    activation: str = "tanh"
    bias: bool = True
    linear_units: tuple[tuple[int, ...], ...] = ()
    masks: tuple = ()
    skip_dim: int = 0
    output_activation: str = "linear"
    _free: object = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "widths", tuple(int(w) for w in self.widths))
        for name, v in (("d_in", self.d_in), ("d_out", self.d_out)):
            if int(v) != v or v < 1:
                raise ValueError(f"invalid architecture: {name} must be a positive integer, got {v!r}")
        if any(w < 1 for w in self.widths):
            raise ValueError(f"invalid architecture: every hidden width must be >= 1, got widths={self.widths}")
        if self.skip_dim < 0:
            raise ValueError(f"invalid architecture: skip_dim must be >= 0, got {self.skip_dim}")
        activations.get(self.activation)  # raises on unknown names
        activations.get(self.output_activation)
        lu = tuple(tuple(int(j) for j in units) for units in self.linear_units)
        if len(lu) > len(self.widths):
            raise ValueError("invalid architecture: linear_units has more entries than hidden layers")
        for l, units in enumerate(lu):
            bad = [j for j in units if not 0 <= j < self.widths[l]]
            if bad:
                raise ValueError(f"invalid architecture: linear unit(s) {bad} out of range for layer {l + 1}")
        object.__setattr__(self, "linear_units", lu + ((),) * (len(self.widths) - len(lu)))
        if self.masks:
            if len(self.masks) != self.depth + 1:
                raise ValueError(f"masks must give one entry (array or None) per weight matrix ({self.depth + 1})")
            ms = []
            for l, (shape, m) in enumerate(zip(self.weight_shapes, self.masks)):
                if m is None:
                    ms.append(None)
                    continue
                m = np.asarray(m, dtype=bool)
                if m.shape != shape:
                    raise ValueError(f"mask {l + 1} has shape {m.shape}, expected {shape} (bias row included)")
                ms.append(tuple(map(tuple, m.tolist())))  # nested tuples: the spec stays hashable and comparable
            object.__setattr__(self, "masks", tuple(ms))
        free = []
        for shape, m in zip(self.weight_shapes, self.masks or (None,) * (self.depth + 1)):
            free.append(np.ones(shape, bool) if m is None else np.asarray(m, dtype=bool))
        flat = np.concatenate([f.ravel() for f in free] + [np.ones(self.skip_dim * self.d_out, bool)])
        object.__setattr__(self, "_free", torch.as_tensor(np.flatnonzero(flat)))
        object.__setattr__(self, "_n_full", int(flat.size))

    # ------------------------------------------------------------------ shapes
    @property
    def depth(self) -> int:
        """H, the number of hidden layers."""
        return len(self.widths)

    @property
    def dims(self) -> tuple[int, ...]:
        return (self.d_in, *self.widths, self.d_out)

    @property
    def weight_shapes(self) -> list[tuple[int, int]]:
        d = self.dims
        return [(d[l] + int(self.bias), d[l + 1]) for l in range(len(d) - 1)]

    @property
    def n_params(self) -> int:
        return int(self._free.numel())

    @property
    def is_piecewise_linear(self) -> bool:
        return activations.get(self.activation).piecewise_linear

    # ------------------------------------------------------------------ parameters
    def full(self, theta: Tensor) -> Tensor:
        """Scatter the free parameters into the full vector (masked entries are 0)."""
        if self.n_params == self._n_full:
            return theta
        out = theta.new_zeros(self._n_full)
        return out.index_put((self._free,), theta)

    def unflatten(self, theta: Tensor) -> tuple[list[Tensor], Tensor | None]:
        """Weights W^(1..H+1) (bias as last row) and the skip matrix R (or None)."""
        if theta.shape[-1] != self.n_params:
            raise ValueError(f"theta has {theta.shape[-1]} entries, the model has {self.n_params} parameters")
        full = self.full(theta)
        Ws, i = [], 0
        for r, c in self.weight_shapes:
            Ws.append(full[i : i + r * c].reshape(r, c))
            i += r * c
        R = full[i:].reshape(self.skip_dim, self.d_out) if self.skip_dim else None
        return Ws, R

    def flatten(self, Ws: Sequence, R=None) -> Tensor:
        parts = [torch.as_tensor(W, dtype=torch.float64).reshape(-1) for W in Ws]
        if self.skip_dim:
            parts.append(torch.as_tensor(R, dtype=torch.float64).reshape(-1))
        full = torch.cat(parts)
        if full.numel() != self._n_full:
            raise ValueError(f"flatten: got {full.numel()} entries, expected {self._n_full}")
        return full[self._free]

    def init(self, seed: int, scale: float = 1.0, device=None) -> Tensor:
        """He/Glorot-style init: entries N(0, scale^2 / fan_in); skip weights start at 0. Drawn on the CPU (the same
        numbers on every device), then moved to `device`."""
        g = torch.Generator().manual_seed(int(seed))
        parts = [torch.randn(r * c, generator=g) * (scale / np.sqrt(r)) for r, c in self.weight_shapes]
        if self.skip_dim:
            parts.append(torch.zeros(self.skip_dim * self.d_out))
        return torch.cat(parts)[self._free].to(device)

    # ------------------------------------------------------------------ forward
    def _with_bias(self, h: Tensor) -> Tensor:
        return torch.cat([h, h.new_ones(h.shape[0], 1)], dim=1) if self.bias else h

    def hidden(self, theta: Tensor, X: Tensor):
        """Hidden layers only: (pre-activations z^(1..H), hidden outputs h^(0..H))."""
        Ws, _ = self.unflatten(theta)
        act = activations.get(self.activation)
        h, zs, hs = X, [], [X]
        for l, W in enumerate(Ws[:-1]):
            z = self._with_bias(h) @ W
            h = act(z)
            if self.linear_units[l]:
                lin = torch.zeros(z.shape[1], dtype=torch.bool, device=z.device)
                lin[list(self.linear_units[l])] = True
                h = torch.where(lin, z, h)
            zs.append(z)
            hs.append(h)
        return zs, hs

    def layers(self, theta: Tensor, X: Tensor, S: Tensor | None = None):
        """Forward pass returning (Yhat, pre-activations z^(1..H), hidden outputs h^(0..H))."""
        Ws, R = self.unflatten(theta)
        zs, hs = self.hidden(theta, X)
        out = self._with_bias(hs[-1]) @ Ws[-1]
        if self.output_activation != "linear":
            out = activations.get(self.output_activation)(out)
        if self.skip_dim:
            S = X if S is None else S
            if S.shape[1] != self.skip_dim:
                raise ValueError(f"skip input has {S.shape[1]} columns, the model's skip_dim is {self.skip_dim}")
            out = out + S @ R
        return out, zs, hs

    def forward(self, theta: Tensor, X: Tensor, S: Tensor | None = None) -> Tensor:
        return self.layers(theta, X, S)[0]

    def output_jacobian(self, theta: Tensor, X: Tensor, S: Tensor | None = None) -> Tensor:
        """d vec(Yhat) / d theta, shape (m*d_out, P), by explicit backpropagation of the blocks
        D^(l) = B_i^(l)[:, k]^T (x) h_i^(l-1)^T (CLAIMS.md section 0). Rows follow vec (columns stacked).

        About 20x faster than torch.func.jacrev on the nets the bench trains; checked against it in the tests."""
        if self.output_activation != "linear":
            return torch.func.jacrev(lambda t: self.forward(t, X, S).mT.reshape(-1))(theta)
        Ws, R = self.unflatten(theta)
        out, zs, hs = self.layers(theta, X, S)
        m, k_out = X.shape[0], self.d_out
        act = activations.get(self.activation)
        # delta[i, k, :] = d yhat_{ik} / d z^(l)_i, propagated from the output layer down
        delta = torch.eye(k_out, dtype=X.dtype, device=X.device).expand(m, k_out, k_out)
        blocks = []
        for l in range(self.depth, -1, -1):
            h_in = self._with_bias(hs[l])
            blocks.append(torch.einsum("ir,ikc->kirc", h_in, delta).reshape(k_out * m, -1))
            if l == 0:
                break
            W = Ws[l][: hs[l].shape[1]]  # drop the bias row
            # sigma is elementwise, so the gradient of sum(sigma(z)) is sigma'(z) entry by entry
            dz = torch.func.grad(lambda z: act(z).sum())(zs[l - 1]).clone()  # may be an expanded view (identity)
            if self.linear_units[l - 1]:
                dz[:, list(self.linear_units[l - 1])] = 1.0
            delta = torch.einsum("ikc,rc->ikr", delta, W) * dz[:, None, :]
        blocks.reverse()
        if self.skip_dim:
            S = X if S is None else S
            eye = torch.eye(k_out, dtype=X.dtype, device=X.device)
            blocks.append(torch.einsum("ir,kc->kirc", S, eye).reshape(k_out * m, -1))
        J = torch.cat(blocks, dim=1)
        return J if self.n_params == self._n_full else J[:, self._free]

    def output_curvature(self, theta: Tensor, X: Tensor, C: Tensor, S: Tensor | None = None) -> Tensor | None:
        """sum_{i,k} C_ik d^2 Yhat_ik / d theta^2 (P x P) analytically, or None where not implemented.

        With C = Yhat - Y this is the second-order term of the squared loss's Hessian, H = J^T J + this. Implemented
        for one hidden layer with a linear output layer (the skip weights R are linear in theta: no curvature). The
        term is block sparse: per hidden unit j, (w_j, w_j) = sum_i a_ij xt_i xt_i^T with a_ij = sigma''(z_ij) (C V^T)_ij,
        and (w_j, V_jk) = sum_i C_ik sigma'(z_ij) xt_i; (V, V) = 0. Cost O(m (d+1)^2 w + m (d+1) w k) instead of
        P Hessian-vector products."""
        if self.depth != 1 or self.output_activation != "linear":
            return None
        Ws, _ = self.unflatten(theta)
        W1, W2 = Ws
        act = activations.get(self.activation)
        Xt = self._with_bias(X)  # m x (d+1)
        z = Xt @ W1  # m x w
        w, k, p = W1.shape[1], W2.shape[1], Xt.shape[1]
        d1 = torch.func.grad(lambda u: act(u).sum())
        s1 = d1(z).clone()
        s2 = torch.func.grad(lambda u: d1(u).sum())(z).clone()
        if self.linear_units[0]:
            lin = list(self.linear_units[0])
            s1[:, lin], s2[:, lin] = 1.0, 0.0
        V = W2[:w]  # w x k, bias row dropped
        a = s2 * (C @ V.T)  # m x w
        n1 = p * w
        H = theta.new_zeros(self._n_full, self._n_full)
        # (w_j, w_j): block (p x p) for unit j at rows r*w + j
        blocks = torch.einsum("ir,ij,is->jrs", Xt, a, Xt)  # w x p x p
        idx = torch.arange(p, device=X.device)[:, None] * w  # row r of W1 -> index r*w (+ j)
        for j in range(w):
            ij = idx[:, 0] + j
            H[ij[:, None], ij[None, :]] = blocks[j]
        # (w_rj, V_jk) = sum_i C_ik s1_ij Xt_ir : index of V_jk is n1 + j*k + kk
        cross = torch.einsum("ik,ij,ir->rjk", C, s1, Xt)  # p x w x k
        cols = n1 + torch.arange(w * k, device=X.device).reshape(w, k)  # j, k -> index
        rows = torch.arange(n1, device=X.device).reshape(p, w)  # r, j -> index
        Hc = cross  # p x w x k
        r_idx = rows[:, :, None].expand(p, w, k)
        c_idx = cols[None, :, :].expand(p, w, k)
        H[r_idx, c_idx] = Hc
        H[c_idx, r_idx] = Hc
        if self.n_params != self._n_full:
            H = H[self._free][:, self._free]
        return H

    def kink_preactivations(self, theta: Tensor, X: Tensor) -> Tensor | None:
        """All pre-activations that feed a kink (PL activations, linear units excluded); None for smooth nets."""
        if not self.is_piecewise_linear:
            return None
        zs, _ = self.hidden(theta, X)
        parts = []
        for l, z in enumerate(zs):
            keep = [j for j in range(z.shape[1]) if j not in self.linear_units[l]]
            parts.append(z[:, keep].reshape(-1))
        return torch.cat(parts) if parts else None

    # ------------------------------------------------------------------ symmetries
    def _moves_masked_entry(self, dWs) -> bool:
        if not self.masks:
            return False
        for dW, m in zip(dWs, self.masks):
            if m is not None and bool((dW.abs() > 0)[~torch.as_tensor(np.asarray(m, dtype=bool), device=dW.device)].any()):
                return True
        return False

    def symmetry_tangents(self, theta: Tensor) -> Tensor:
        """Tangents (P x k) of the continuous symmetry orbits through theta; they lie in the Hessian's null space
        at a critical point.

        - Positively homogeneous sigma of degree k: per hidden unit, (incoming column) (+) -k (outgoing row).
        - Linear nets (sigma = identity, no masks): all of GL(d_l) per layer, W^(l) -> W^(l) A, W^(l+1) -> A^-1 W^(l+1).
        Masked entries must stay zero along the orbit, so masked models only keep tangents that respect the mask.
        """
        act = activations.get(self.activation)
        if not self.widths:
            return theta.new_zeros(self.n_params, 0)
        Ws, R = self.unflatten(theta)
        tangents = []
        for l in range(self.depth):
            W_in, W_out = Ws[l], Ws[l + 1]
            d = W_in.shape[1]
            if self.activation == "linear" and not self.masks:
                gens = [(a, b, 1) for a in range(d) for b in range(d)]
            else:
                gens = []
                for j in range(d):
                    k = 1 if j in self.linear_units[l] else act.homogeneity
                    if k is not None:
                        gens.append((j, j, k))
            for a, b, k in gens:
                dWs = [torch.zeros_like(W) for W in Ws]
                dWs[l][:, b] = W_in[:, a]  # W_in E_ab
                dWs[l + 1][a, :] = -k * W_out[b, :]  # -E_ab W_out, times k for a degree-k rescaling
                tangents.append(self.flatten(dWs, None if R is None else torch.zeros_like(R)))
            if self.bias:
                # an identity unit's bias can shift by c if the next layer's bias absorbs -c times its outgoing row
                identity = range(d) if self.activation == "linear" else self.linear_units[l]
                for j in identity:
                    dWs = [torch.zeros_like(W) for W in Ws]
                    dWs[l][-1, j] = 1.0
                    dWs[l + 1][-1, :] = -W_out[j, :]
                    if self._moves_masked_entry(dWs):
                        continue  # a mask pins a bias this move needs: not a symmetry of this architecture
                    tangents.append(self.flatten(dWs, None if R is None else torch.zeros_like(R)))
        if not tangents:
            return theta.new_zeros(self.n_params, 0)
        return torch.stack(tangents, dim=1)


@dataclass(frozen=True)
class QuadraticNet:
    """One hidden layer with quadratic activation and FIXED output signs: f(x) = sum_l v_l (w_l^T x)^2.

    Only W (k x d) is trained; v is a fixed sign vector (CLAIMS.md claim9a). Equivalently f(x) = <M, x x^T> with
    M = W^T diag(v) W, so the loss is a function of a symmetric matrix of signature bounded by the signs of v."""

    d_in: int
    signs: tuple[float, ...]

    def __post_init__(self):
        if int(self.d_in) != self.d_in or self.d_in < 1:
            raise ValueError(f"invalid architecture: d_in must be a positive integer, got {self.d_in!r}")
        if not self.signs:
            raise ValueError("invalid architecture: QuadraticNet needs at least one hidden unit (signs is empty)")
        s = tuple(float(v) for v in self.signs)
        if any(v not in (1.0, -1.0) for v in s):
            raise ValueError(f"QuadraticNet signs must be +1 or -1, got {self.signs}")
        object.__setattr__(self, "signs", s)

    @property
    def width(self) -> int:
        return len(self.signs)

    @property
    def d_out(self) -> int:
        return 1

    @property
    def n_params(self) -> int:
        return self.width * self.d_in

    is_piecewise_linear = False

    def init(self, seed: int, scale: float = 1.0, device=None) -> Tensor:
        g = torch.Generator().manual_seed(int(seed))
        return (torch.randn(self.n_params, generator=g) * (scale / np.sqrt(self.d_in))).to(device)

    def matrix(self, theta: Tensor) -> Tensor:
        """M = W^T diag(v) W, the symmetric matrix the net represents."""
        W = theta.reshape(self.width, self.d_in)
        return W.T @ (torch.as_tensor(self.signs, dtype=theta.dtype, device=theta.device)[:, None] * W)

    def forward(self, theta: Tensor, X: Tensor, S: Tensor | None = None) -> Tensor:
        if theta.shape[-1] != self.n_params:
            raise ValueError(f"theta has {theta.shape[-1]} entries, the model has {self.n_params} parameters")
        Z = X @ theta.reshape(self.width, self.d_in).T
        return (Z * Z) @ torch.as_tensor(self.signs, dtype=theta.dtype, device=theta.device)[:, None]

    def output_jacobian(self, theta: Tensor, X: Tensor, S: Tensor | None = None) -> Tensor:
        """d f(x_i) / d W_lj = 2 v_l (w_l^T x_i) x_ij."""
        Z = X @ theta.reshape(self.width, self.d_in).T
        v = torch.as_tensor(self.signs, dtype=theta.dtype, device=theta.device)
        return (2 * (Z * v)[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)

    def kink_preactivations(self, theta: Tensor, X: Tensor):
        return None

    def symmetry_tangents(self, theta: Tensor) -> Tensor:
        """W -> Q W with Q in the group preserving diag(v) (O(p, q)); tangents A W with A diag(v) antisymmetric."""
        W = theta.reshape(self.width, self.d_in)
        v = torch.as_tensor(self.signs, dtype=theta.dtype, device=theta.device)
        tangents = []
        for a in range(self.width):
            for b in range(a + 1, self.width):
                A = torch.zeros(self.width, self.width, dtype=theta.dtype, device=theta.device)
                # A diag(v) antisymmetric  <=>  A_ab v_b = -A_ba v_a
                A[a, b], A[b, a] = v[a], -v[b]
                tangents.append((A @ W).reshape(-1))
        return torch.stack(tangents, dim=1) if tangents else theta.new_zeros(self.n_params, 0)
