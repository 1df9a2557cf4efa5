# Gateway core time per spoofed SYN at the strongest flood, median with
# min-max, one bar per system; for moat also its process's own time (the
# rest is the kernel's receive and transmit for it on the same core).
set terminal pngcairo size 900,560 font "DejaVu Sans,11"
set output out
set title "Gateway CPU per spoofed SYN, strongest flood (median, min-max)"
set ylabel "gateway core microseconds per SYN"
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set offsets 0.6, 0.6, 0, 0
set xtics rotate by -20
set key outside below
plot data using 1:3:4:5:(0.3):xtic(2) with boxerrorbars lc rgb "#4477aa" title "gateway core busy time per SYN", \
	lo using 1:2 with points pt 9 ps 2 lc rgb "#cc3311" title "moat process alone"
