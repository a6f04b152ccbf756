"""Image families: the ConvNet classifier, its architectures, and the U-Net segmenter."""
