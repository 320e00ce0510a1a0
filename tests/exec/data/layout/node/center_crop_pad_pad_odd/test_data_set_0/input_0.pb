B
input_dataJ@,¿Éq¿½*‹¿Uì«¾¸-¾¿ß§¼>