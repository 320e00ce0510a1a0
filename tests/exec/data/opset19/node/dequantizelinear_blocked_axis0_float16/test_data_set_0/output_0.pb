
ByJ0TÄ!O.>‘À(ARLhÄCI`ÈöFß½ÛÉì1ÑJºA K°¼£ÎÉSM†Ç•Ì0FI