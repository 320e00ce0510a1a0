
BscaleJ>È<¾=±>