// placeholder: the monitor is being written (see native/monitor)
int main() { return 1; }
