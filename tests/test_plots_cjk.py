"""Chinese labels render in every figure with the shipped CJK font (issue 14)."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from churn_research import plots  # noqa: E402


def test_chinese_labels_render_without_missing_glyphs_and_latin_keeps_its_font():
    plots.set_style()
    assert plots.cjk_font() == "Noto Sans CJK SC"
    assert plt.rcParams["font.family"] == ["DejaVu Sans", "Noto Sans CJK SC"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.bar(["华东", "华南", "north"], [0.1, 0.2, 0.3])
        plots.finish(ax, title="各地区流失率 churn", xlabel="地区", ylabel="流失率（%）")
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba())
        plt.close(fig)
    assert not [w for w in caught if "Glyph" in str(w.message)]
    assert pixels.size > 0


def test_profile_chart_names_the_columns_in_words_in_english_too():
    """Review s7: the English profile chart showed "tenure_months ≤ 15"; it reads as the findings."""
    import pandas as pd

    from churn_research.plots import causes as cplots

    plots.set_style("en")
    profiles = pd.DataFrame({"rule": ["internet_service = Fiber optic & tenure_months ≤ 15"],
                             "churn_rate": [0.69], "ci_low": [0.66], "ci_high": [0.72],
                             "lift": [2.6], "support": [0.2], "high_churn": [True]})
    profiles.attrs["base_rate"] = 0.265
    ax = cplots.plot_profiles(profiles)
    ticks = [tick.get_text().replace("\n", " ") for tick in ax.get_yticklabels()]
    plt.close("all")
    assert ticks == ["internet service = Fiber optic & tenure (months) ≤ 15"]


def test_segment_churn_of_a_snapshot_is_titled_as_the_share_who_left_in_its_last_month():
    """Review s7 (telco): "Churn per month by contract" contradicted the findings' "not the
    business's monthly churn rate"; a snapshot's chart says what it shows."""
    import pandas as pd

    from churn_research.plots import indicators as iplots

    plots.set_style("en")
    pooled = pd.DataFrame({"contract": ["Month-to-month", "One year"], "rate": [0.427, 0.113],
                           "ci_low": [0.41, 0.10], "ci_high": [0.44, 0.13], "lost": [1655, 166],
                           "at_risk": [3875, 1473]})
    ax = iplots.plot_segment_churn(pooled, "contract", unit="month", snapshot=True)
    assert ax.get_title() == "Share who left in the snapshot's last month by contract"
    assert ax.get_xlabel() == "Customers who left in the snapshot's last month (%)"
    dated = iplots.plot_segment_churn(pooled, "contract", unit="month")
    assert dated.get_title() == "Churn per month by contract"
    plt.close("all")
