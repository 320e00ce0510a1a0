
BbiasJå4B®v*ƒ¹