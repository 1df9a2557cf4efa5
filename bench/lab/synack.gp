# SYN-ACKs per second out of the gateway against the SYNs per second the
# router handed it, one line per system (bench/lab/plots.sh).
set terminal pngcairo size 900,560 font "DejaVu Sans,11"
set output out
set title "SYN flood: cookie SYN-ACKs per second against offered SYNs"
set xlabel "spoofed SYNs per second handed to the gateway (kpps)"
set ylabel "SYN-ACKs per second (kpps)"
set key top left
set grid
set xrange [0:*]
set yrange [0:*]
n = words(files)
plot for [i=1:n] word(files, i) using ($1/1000):($2/1000) with linespoints lw 2 pt 7 \
	title sprintf("%s", system(sprintf("echo '%s' | cut -d'|' -f%d", titles, i))), \
	x title "y = x (every SYN answered)" dt 2 lc rgb "gray"
