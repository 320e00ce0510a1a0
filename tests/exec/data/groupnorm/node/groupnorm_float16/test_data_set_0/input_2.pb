
BbiasJô5*8