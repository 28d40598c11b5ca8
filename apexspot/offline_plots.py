"""`dvc plots show` that renders with no network: the project's HTML template carries Vega,
Vega-Lite and Vega-Embed inline (the bundle that the vl-convert-python wheel ships).

DVC's own page loads them from a CDN, so on a machine without internet (where licensed
data usually lives) every Vega chart stays blank. `.dvc/config` names this template
(`plots.html_template`), so the plain `dvc plots show` uses it.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATE = Path(".dvc") / "offline-plots.html"
VEGA_LITE = "5.20"  # DVC's specs are Vega-Lite 5

PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>apexspot plots</title>
    <!-- Vega, Vega-Lite VEGA_LITE and Vega-Embed, inline (vl-convert-python VL_CONVERT): no network needed -->
    <script type="text/javascript">
BUNDLE
    </script>
    <style>
        body { font-family: sans-serif; }
        table { border-spacing: 15px; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def template() -> str:
    """The page DVC fills in ({plot_divs}, {refresh_tag}), with the scripts inline."""
    import vl_convert

    bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE).replace("</script", "<\\/script")
    head, tail = PAGE.split("BUNDLE")
    head = head.replace("VEGA_LITE", VEGA_LITE).replace("VL_CONVERT", getattr(vl_convert, "__version__", "?"))
    return head + bundle + tail


def write(path: str | Path = TEMPLATE) -> Path:
    path = Path(path)
    path.write_text(template(), encoding="utf-8")
    return path
