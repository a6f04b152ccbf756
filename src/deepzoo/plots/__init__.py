"""Pictures of a fit and of its predictions: pure matplotlib, one function per picture.

Every function takes what it draws (a fitted estimator, a history dict, labels and scores) and an
optional ``ax``, draws on it and returns it. Without ``ax`` a new :class:`matplotlib.figure.Figure`
is made directly, not through ``pyplot``: no GUI backend is needed, no global figure is left open
and ``plt.show()`` is never called. Put the result in a report with
:meth:`deepzoo.report.RunReport.add_figure`, or save it with ``ax.figure.savefig(...)``.

One module per family, all re-exported here: ``metrics`` (loss, ROC, confusion matrix, ...), ``som``,
``unsupervised`` (RBM filters, image grids, reconstructions, recommendations), ``audit`` (fairness and
explanations), ``sequences`` (forecasts, word vectors, token saliency), ``images`` (ConvNets) and
``segmentation`` (masks over images, IoU) and
``video`` (strips of frames, forecasts of frames, the error of each predicted frame).
"""

from __future__ import annotations

from .audit import plot_attributions, plot_coefficients, plot_group_rates, plot_importance, plot_score_ecdf
from .images import plot_conv_filters, plot_predictions, plot_saliency
from .metrics import (
    plot_confusion_matrix,
    plot_cv_scores,
    plot_loss,
    plot_model_comparison,
    plot_precision_recall,
    plot_predicted_vs_actual,
    plot_roc,
    plot_score_distribution,
)
from .segmentation import plot_iou_distribution, plot_mask_overlays
from .sequences import plot_forecast, plot_residuals, plot_token_saliency, plot_word_vectors
from .som import plot_component_planes, plot_hit_map, plot_label_map, plot_umatrix
from .unsupervised import (
    plot_codes,
    plot_image_grid,
    plot_rbm_filters,
    plot_recommendations,
    plot_reconstructions,
)
from .video import plot_forecast_frames, plot_frame_errors, plot_frame_rows

__all__ = [
    "plot_attributions",
    "plot_codes",
    "plot_coefficients",
    "plot_component_planes",
    "plot_confusion_matrix",
    "plot_conv_filters",
    "plot_cv_scores",
    "plot_forecast",
    "plot_forecast_frames",
    "plot_frame_errors",
    "plot_frame_rows",
    "plot_group_rates",
    "plot_hit_map",
    "plot_image_grid",
    "plot_importance",
    "plot_iou_distribution",
    "plot_label_map",
    "plot_loss",
    "plot_mask_overlays",
    "plot_model_comparison",
    "plot_precision_recall",
    "plot_predicted_vs_actual",
    "plot_predictions",
    "plot_rbm_filters",
    "plot_recommendations",
    "plot_reconstructions",
    "plot_residuals",
    "plot_roc",
    "plot_saliency",
    "plot_score_distribution",
    "plot_score_ecdf",
    "plot_token_saliency",
    "plot_umatrix",
    "plot_word_vectors",
]
