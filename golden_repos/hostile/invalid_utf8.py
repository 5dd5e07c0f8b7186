"""Invalid UTF-8 below and no coding cookie."""
name = "café"
broken = "ÿþý"
