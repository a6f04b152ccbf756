"""The generative adversarial network and the metrics that judge its samples."""
