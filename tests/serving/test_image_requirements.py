"""The runtime image's package list against a version's requirements.txt (infra/serving_image.py):
pip's parsing (packaging), markers for the image's Python, and one-line reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.serving_image import ImageMismatch, check, read_packages, requirements, unmet

IMAGE = "ghcr.io/acme/serve@sha256:" + "0" * 64
# What MLflow 3.17 writes beside a scikit-learn model (tests/serving/conftest.py trains one).
REQUIREMENTS = """\
mlflow==3.17.2
numpy==2.4.6
pandas==3.1.1
scikit-learn==1.9.1
scipy>=1.11,<2
skops==0.16.0
tomli>=2; python_version < "3.11"
"""


def image(tmp_path: Path, text: str):
    path = tmp_path / "packages.txt"
    path.write_text(text)
    return read_packages(IMAGE, path, "images/packages.txt")


FULL = "mlflow==3.17.2\nnumpy==2.4.6\npandas==3.1.1\nscikit_learn==1.9.1\nSciPy==1.17.1\nskops==0.16.0\n"


def test_an_image_with_every_pin_meets_them(tmp_path):
    check("iris", 3, "models/iris.yaml:9", REQUIREMENTS, image(tmp_path, "# pip freeze\n" + FULL))


def test_a_marker_for_another_python_does_not_apply():
    names = [r.name for r in requirements(REQUIREMENTS, "req")]
    assert "tomli" not in names and len(names) == 6


def test_a_different_version_is_one_line_naming_model_version_package_and_image(tmp_path):
    packages = image(tmp_path, FULL.replace("scikit_learn==1.9.1", "scikit-learn==1.8.0"))
    with pytest.raises(ImageMismatch) as caught:
        check("iris", 3, "models/iris.yaml:9", REQUIREMENTS, packages)
    assert str(caught.value) == (
        f"models/iris.yaml:9: iris version 3: scikit-learn==1.9.1 needed, the image has 1.8.0 ({IMAGE}, "
        "images/packages.txt); rebuild the image from the version's requirements.txt, or serve a version it meets"
    )


def test_every_problem_is_counted(tmp_path):
    packages = image(tmp_path, "mlflow==3.16.0\nnumpy==2.4.6\n")
    problems = unmet(requirements(REQUIREMENTS, "req"), packages)
    assert problems[0] == "mlflow==3.17.2 needed, the image has 3.16.0"
    assert "pandas==3.1.1 is not in the image" in problems and len(problems) == 5
    with pytest.raises(ImageMismatch, match=r"\(and 4 more\)"):
        check("iris", 3, "f:1", REQUIREMENTS, packages)


def test_a_range_is_met_by_any_version_inside_it(tmp_path):
    assert unmet(requirements("scipy>=1.11,<2\n", "r"), image(tmp_path, "scipy==1.17.1\n")) == []
    assert unmet(requirements("scipy>=1.11,<2\n", "r"), image(tmp_path, "scipy==2.0.0\n")) == [
        "scipy<2,>=1.11 needed, the image has 2.0.0"
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("-r other.txt\n", "is not a requirement this check reads"),
        ("pkg @ https://example.com/pkg.whl\n", "pkg comes from a URL"),
    ],
)
def test_what_the_check_cannot_judge_is_refused(text, says):
    with pytest.raises(ImageMismatch, match=says):
        requirements(text, "models:/m/1/requirements.txt")


def test_a_package_list_that_is_not_pip_freeze_names_its_line(tmp_path):
    with pytest.raises(ImageMismatch, match=r"^images/packages.txt:2: 'numpy>=2' is not name==version"):
        image(tmp_path, "mlflow==3.17.2\nnumpy>=2\n")


def test_a_missing_package_list_says_what_to_commit(tmp_path):
    with pytest.raises(ImageMismatch, match="is not there; commit the image's `pip freeze`"):
        read_packages(IMAGE, tmp_path / "nope.txt", "nope.txt")


def test_the_default_images_list_is_complete_and_pinned():
    from infra.serving import DEFAULT_PACKAGES, REPO

    packages = read_packages("default", REPO / DEFAULT_PACKAGES, DEFAULT_PACKAGES)
    assert {"mlflow", "scikit-learn", "skops", "cloudpickle", "uvicorn"} <= set(packages.versions)
    assert str(packages.versions["mlflow"]) == "3.17.2"
