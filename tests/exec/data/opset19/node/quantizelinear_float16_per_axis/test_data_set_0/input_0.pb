
BxJ0ฐLYKsH๕4มH0ศะmล์NสรFdอำOฝฬรCฬศhMjอ€ฮ6ันฯ8O๗อ