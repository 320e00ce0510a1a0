BbiasJ¨
;¿”Ll?