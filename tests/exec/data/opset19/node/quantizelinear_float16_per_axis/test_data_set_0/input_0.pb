
BxJ0IÅWPLuDÅ·Î±Ê¢KÖPgÃu¿½NìÈÝÌÍ&Ì¼N)F!ÍžN÷ÅSJsÍH: