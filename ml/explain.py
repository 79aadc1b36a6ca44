"""Exact path contributions of a Random Forest (the numbers reasons are built from).

`FlatForest` lays every fitted tree of a forest end to end in flat numpy arrays and walks
all trees at once, one tree level per numpy step. The walk gives the forest's
probabilities (identical to ``predict_proba``) and, for free, Saabas-style path
contributions: at every split the change of the node's class distribution is credited to
the split's feature, so for each row

    bias + sum(contributions over features) == predict_proba  (exactly, up to rounding)

where bias is the mean class distribution at the roots. Contributions of encoded columns
are summed back to the reason items an officer knows: a field (all its one-hot columns and
item counts) or a derived feature such as "credit used last month".

The risk explained is the probability of the scorecard's worst class ("default", "bad",
"Poor"), the same number the score in points is computed from.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.ensemble import RandomForestClassifier


class FlatForest:
    """All trees of a fitted forest in flat arrays, walked level by level with numpy."""

    def __init__(self, forest: RandomForestClassifier):
        trees = [estimator.tree_ for estimator in forest.estimators_]
        sizes = np.array([tree.node_count for tree in trees])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        node_ids = np.arange(int(sizes.sum()))
        left = np.concatenate([t.children_left + o for t, o in zip(trees, offsets, strict=True)])
        right = np.concatenate([t.children_right + o for t, o in zip(trees, offsets, strict=True)])
        feature = np.concatenate([t.feature for t in trees])
        is_leaf = np.concatenate([t.children_left == -1 for t in trees])
        # A leaf points at itself, so rows that reached one stay put on later levels.
        self.left = np.where(is_leaf, node_ids, left).astype(np.intp)
        self.right = np.where(is_leaf, node_ids, right).astype(np.intp)
        self.feature = np.where(is_leaf, 0, feature).astype(np.intp)
        self.threshold = np.concatenate([t.threshold for t in trees]).astype(np.float64)
        self.missing_go_left = np.concatenate(
            [np.asarray(t.missing_go_to_left, dtype=bool) for t in trees]
        )
        values = np.concatenate([t.value[:, 0, :] for t in trees]).astype(np.float64)
        totals = values.sum(axis=1, keepdims=True)
        self.value = values / np.where(totals == 0, 1.0, totals)
        self.roots = offsets.astype(np.intp)
        self.n_trees = len(trees)
        self.n_classes = self.value.shape[1]
        self.n_features = int(forest.n_features_in_)
        self.max_depth = int(max(tree.max_depth for tree in trees))

    def _levels(self, X: np.ndarray):
        """Yield (node, next node, split feature) arrays of shape (rows, trees) per level."""
        # sklearn compares float32 inputs with float64 thresholds; do the same.
        X32 = np.asarray(X, dtype=np.float32)
        rows = np.arange(X32.shape[0])[:, None]
        node = np.broadcast_to(self.roots, (X32.shape[0], self.n_trees))
        for _ in range(self.max_depth):
            feature = self.feature[node]
            x = X32[rows, feature]
            go_left = (x <= self.threshold[node]) | (np.isnan(x) & self.missing_go_left[node])
            following = np.where(go_left, self.left[node], self.right[node])
            yield node, following, feature
            if np.array_equal(following, node):  # every row is at a leaf of every tree
                return
            node = following

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """Leaf node (global index) of every row in every tree, shape (rows, trees)."""
        node = np.broadcast_to(self.roots, (len(X), self.n_trees))
        for _, following, _ in self._levels(X):
            node = following
        return node

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.proba_of_leaves(self.leaves(X))

    def proba_of_leaves(self, leaves: np.ndarray) -> np.ndarray:
        return self.value[leaves].sum(axis=1) / self.n_trees

    def sklearn_leaves(self, forest: RandomForestClassifier, X: np.ndarray) -> np.ndarray:
        """Global leaf ids via each fitted tree's compiled ``apply``.

        The same calls ``forest.apply`` makes, minus its input checks per call and its
        joblib thread pool, which only competes for the cores with a bulk job's writer
        thread and the database (tests compare the leaves with the numpy walk above).
        """
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        leaves = [estimator.tree_.apply(X32) for estimator in forest.estimators_]
        return np.column_stack(leaves).astype(np.intp, copy=False) + self.roots

    @property
    def bias(self) -> np.ndarray:
        """Mean class distribution at the roots: the prediction before any split."""
        return self.value[self.roots].sum(axis=0) / self.n_trees

    def contributions(
        self, X: np.ndarray, class_index: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (rows, classes), contributions).

        Contributions have shape (rows, features, classes), or (rows, features) for the one
        class `class_index`.
        """
        n_rows = len(X)
        value = self.value if class_index is None else self.value[:, class_index]
        width = self.n_classes if class_index is None else 1
        flat = np.zeros((n_rows * self.n_features, width))
        row_offset = (np.arange(n_rows) * self.n_features)[:, None]
        node = np.broadcast_to(self.roots, (n_rows, self.n_trees))
        for node, following, feature in self._levels(X):
            delta = (value[following] - value[node]).reshape(n_rows * self.n_trees, -1)
            index = (row_offset + feature).ravel()
            for k in range(width):
                flat[:, k] += np.bincount(index, weights=delta[:, k], minlength=len(flat))
            node = following
        probabilities = self.value[node].sum(axis=1) / self.n_trees
        contributions = flat.reshape(n_rows, self.n_features, width) / self.n_trees
        if class_index is not None:
            contributions = contributions[:, :, 0]
        return probabilities, contributions


class LeafContributions:
    """Per-leaf path contributions of one class, summed into reason items, for batches.

    Every leaf's path from the root is fixed, so its contributions can be added up once;
    a batch then needs only each row's leaves (sklearn's fast ``apply``) and one lookup
    per tree instead of a walk. Each leaf's row of the table also carries the leaf's class
    distribution, so the same lookups give the probabilities. Costs leaves x (items +
    classes) floats of memory, so it is built on first use (bulk scoring) and never pickled.
    """

    BLOCK_ROWS = 2048

    def __init__(self, flat: FlatForest, class_index: int, items_of_columns: np.ndarray):
        n_nodes = len(flat.feature)
        n_items = items_of_columns.shape[1]
        item_of_column = items_of_columns.argmax(axis=1)
        value = flat.value[:, class_index]
        paths = np.zeros((n_nodes, n_items))
        frontier = flat.roots
        while frontier.size:
            internal = frontier[flat.left[frontier] != frontier]
            if not internal.size:
                break
            item = item_of_column[flat.feature[internal]]
            for child in (flat.left[internal], flat.right[internal]):
                paths[child] = paths[internal]
                paths[child, item] += value[child] - value[internal]
            frontier = np.concatenate([flat.left[internal], flat.right[internal]])
        is_leaf = flat.left == np.arange(n_nodes)
        self.position = np.full(n_nodes, -1, dtype=np.intp)
        leaf_ids = np.flatnonzero(is_leaf)
        self.position[leaf_ids] = np.arange(len(leaf_ids))
        self.table = np.hstack([paths[leaf_ids], flat.value[leaf_ids]]) / flat.n_trees
        self.n_items = n_items

    def explain(self, leaves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (rows, classes), item contributions (rows, items)) for global
        leaf ids of shape (rows, trees)."""
        rows = self.position[leaves]
        out = np.zeros((len(leaves), self.table.shape[1]))
        # By blocks of rows whose running sums stay in the CPU cache while all trees are
        # added, rather than one pass over every row per tree.
        for start in range(0, len(rows), self.BLOCK_ROWS):
            block, sums = (
                rows[start : start + self.BLOCK_ROWS],
                out[start : start + self.BLOCK_ROWS],
            )
            for tree in range(block.shape[1]):
                sums += self.table[block[:, tree]]
        return out[:, self.n_items :], out[:, : self.n_items]

    def item_contributions(self, leaves: np.ndarray) -> np.ndarray:
        """(rows, items) contributions for global leaf ids of shape (rows, trees)."""
        return self.explain(leaves)[1]


def item_matrix(column_items: Sequence[str], items: Sequence[str]) -> np.ndarray:
    """0/1 matrix (encoded columns, items) that sums column contributions into items."""
    position = {name: i for i, name in enumerate(items)}
    matrix = np.zeros((len(column_items), len(items)))
    for column, item in enumerate(column_items):
        matrix[column, position[item]] = 1.0
    return matrix
