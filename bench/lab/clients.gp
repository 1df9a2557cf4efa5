# Honest clients' connect time over the seconds of the flood (first run of
# each system), one line per system; a connection that failed (no
# handshake within 1 s) is drawn at 1000 ms (bench/lab/plots.sh).
set terminal pngcairo size 900,560 font "DejaVu Sans,11"
set output out
set title "Honest clients during the strongest SYN flood"
set xlabel "seconds since the flood started"
set ylabel "connect time (ms, log); 1000 = failed"
set logscale y
set yrange [0.05:2000]
set grid
set key outside below horizontal
n = words(files)
plot for [i=1:n] word(files, i) using 1:2 with linespoints lw 1 pt 7 ps 0.5 \
	title sprintf("%s", system(sprintf("echo '%s' | cut -d'|' -f%d", titles, i)))
