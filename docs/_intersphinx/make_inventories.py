"""Write small fallback intersphinx inventories for offline builds.

``conf.py`` lists each project's online ``objects.inv`` first and these files
second, so a build with network access uses the real inventories and an
offline build (CI, a laptop on a train) still links the handful of names the
skblsh docs mention most. Regenerate with ``python make_inventories.py``.
"""

import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

SKLEARN = {
    "py:class": [
        "sklearn.model_selection.GridSearchCV",
        "sklearn.model_selection.GroupKFold",
        "sklearn.pipeline.Pipeline",
        "sklearn.utils.Bunch",
        "sklearn.neighbors.KNeighborsRegressor",
        "sklearn.neighbors.NearestNeighbors",
        "sklearn.random_projection.GaussianRandomProjection",
        "sklearn.preprocessing.FunctionTransformer",
        "sklearn.preprocessing.StandardScaler",
        "sklearn.linear_model.LogisticRegression",
    ],
    "py:function": [
        "sklearn.model_selection.cross_validate",
        "sklearn.model_selection.cross_val_score",
        "sklearn.metrics.make_scorer",
        "sklearn.datasets.load_digits",
        "sklearn.pipeline.make_pipeline",
        "sklearn.utils.estimator_checks.parametrize_with_checks",
    ],
}
NUMPY = {
    "py:class": ["numpy.ndarray", "numpy.random.RandomState"],
    "py:function": ["numpy.packbits", "numpy.unpackbits"],
}
LIBROSA = {
    "py:function": [
        "librosa.stft",
        "librosa.istft",
        "librosa.filters.mel",
        "librosa.feature.melspectrogram",
        "librosa.feature.mfcc",
    ],
}
PYTHON = {"py:class": ["pathlib.Path", "dict", "str", "int", "float", "bool"]}


def uri(project, name):
    if project == "sklearn":
        return f"modules/generated/{name}.html#$"
    if project == "numpy":
        return f"reference/generated/{name}.html#$"
    if project == "librosa":
        return f"generated/{name}.html#$"
    if name == "pathlib.Path":
        return "library/pathlib.html#$"
    return "library/functions.html#$"


def write(project, version, objects):
    lines = [
        f"{name} {role} 1 {uri(project, name)} -"
        for role, names in objects.items()
        for name in names
    ]
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = zlib.compress(("\n".join(lines) + "\n").encode())
    (HERE / f"{project}.inv").write_bytes(header.encode() + body)


if __name__ == "__main__":
    write("sklearn", "stable", SKLEARN)
    write("numpy", "stable", NUMPY)
    write("librosa", "latest", LIBROSA)
    write("python", "3", PYTHON)
