package dev.railyard.benchmarks.userspace;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * HdrHistogram-style latency distribution plot (Java2D, headless, no dependencies): latency on a log scale
 * against the percentile on the 1/(1 - p) scale, so that 90 %, 99 %, 99.9 % ... are evenly spaced. One colour per
 * path; every round is drawn, the median round (by requests per second) bold.
 *
 * <pre>
 * java -Djava.awt.headless=true -cp 'benchmarks/target/benchmarks.jar:benchmarks/target/lib/*' \
 *     dev.railyard.benchmarks.userspace.LatencyPlot RESULTS/latency.csv OUT.png ["title"]
 * </pre>
 *
 * latency.csv is what {@link ProxyLoadRun} writes: {@code path,round,median,percentile,latency_us}.
 */
public final class LatencyPlot {
    private static final Color[] PALETTE = {
        new Color(0x55, 0x55, 0x55), new Color(0x1f, 0x77, 0xb4), new Color(0xd6, 0x27, 0x28),
        new Color(0x2c, 0xa0, 0x2c), new Color(0x94, 0x67, 0xbd), new Color(0xff, 0x7f, 0x0e)};
    private static final double MAX_NINES = 5; // up to 99.999 %

    /** One round of one path: percentiles (0..100) and latencies in microseconds. */
    record Series(String path, int round, boolean median, double[] percentiles, long[] micros) {
    }

    private LatencyPlot() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: LatencyPlot latency.csv out.png [title]");
            System.exit(2);
        }
        List<Series> series = readCsv(Path.of(args[0]));
        write(series, Path.of(args[1]), args.length > 2 ? args[2] : "Latency by percentile");
        System.out.println("wrote " + args[1]);
    }

    static List<Series> readCsv(Path csv) throws IOException {
        Map<String, List<double[]>> points = new LinkedHashMap<>();
        Map<String, boolean[]> medians = new LinkedHashMap<>();
        for (String line : Files.readAllLines(csv)) {
            if (line.isBlank() || line.startsWith("path,")) {
                continue;
            }
            String[] f = line.split(",");
            String key = f[0] + "\u0000" + f[1];
            points.computeIfAbsent(key, k -> new ArrayList<>()).add(new double[] {Double.parseDouble(f[3]), Double.parseDouble(f[4])});
            medians.put(key, new boolean[] {Boolean.parseBoolean(f[2])});
        }
        List<Series> result = new ArrayList<>();
        for (Map.Entry<String, List<double[]>> e : points.entrySet()) {
            String[] k = e.getKey().split("\u0000");
            double[] p = new double[e.getValue().size()];
            long[] us = new long[p.length];
            for (int i = 0; i < p.length; i++) {
                p[i] = e.getValue().get(i)[0];
                us[i] = (long) e.getValue().get(i)[1];
            }
            result.add(new Series(k[0], Integer.parseInt(k[1]), medians.get(e.getKey())[0], p, us));
        }
        return result;
    }

    static void write(List<Series> series, Path png, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int width = 1100;
        int height = 650;
        int left = 90;
        int right = 230;
        int top = 50;
        int bottom = 70;
        int plotW = width - left - right;
        int plotH = height - top - bottom;

        double minUs = Double.MAX_VALUE;
        double maxUs = 1;
        for (Series s : series) {
            for (int i = 0; i < s.percentiles.length; i++) {
                if (nines(s.percentiles[i]) <= MAX_NINES + 1e-9) {
                    minUs = Math.min(minUs, Math.max(1, s.micros[i]));
                    maxUs = Math.max(maxUs, s.micros[i]);
                }
            }
        }
        if (minUs == Double.MAX_VALUE) {
            minUs = 1;
        }
        double yLo = Math.floor(Math.log10(minUs));
        double yHi = Math.ceil(Math.log10(maxUs));
        if (yHi <= yLo) {
            yHi = yLo + 1;
        }

        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            FontMetrics fm = g.getFontMetrics();

            // grid and axes
            g.setStroke(new BasicStroke(1f));
            for (int d = 0; d <= MAX_NINES; d++) {
                int x = left + (int) Math.round(plotW * d / MAX_NINES);
                g.setColor(new Color(0xdd, 0xdd, 0xdd));
                g.drawLine(x, top, x, top + plotH);
                g.setColor(Color.DARK_GRAY);
                String label = d == 0 ? "0%" : String.format(Locale.ROOT, "%s%%", trim(100 * (1 - Math.pow(10, -d))));
                g.drawString(label, x - fm.stringWidth(label) / 2, top + plotH + 20);
            }
            for (int e = (int) yLo; e <= (int) yHi; e++) {
                for (int m = 1; m < 10; m++) {
                    double v = Math.log10(m) + e;
                    if (v > yHi + 1e-9) {
                        break;
                    }
                    int y = top + plotH - (int) Math.round(plotH * (v - yLo) / (yHi - yLo));
                    g.setColor(m == 1 ? new Color(0xcc, 0xcc, 0xcc) : new Color(0xf0, 0xf0, 0xf0));
                    g.drawLine(left, y, left + plotW, y);
                    if (m == 1) {
                        g.setColor(Color.DARK_GRAY);
                        String label = formatMicros(Math.pow(10, e));
                        g.drawString(label, left - 8 - fm.stringWidth(label), y + fm.getAscent() / 2 - 1);
                    }
                }
            }
            g.setColor(Color.BLACK);
            g.drawRect(left, top, plotW, plotH);
            g.drawString("percentile", left + plotW / 2 - fm.stringWidth("percentile") / 2, top + plotH + 45);
            Graphics2D rotated = (Graphics2D) g.create();
            rotated.rotate(-Math.PI / 2);
            rotated.drawString("latency (log scale)", -(top + plotH / 2) - fm.stringWidth("latency (log scale)") / 2, 25);
            rotated.dispose();
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString(title, left, top - 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));

            // curves
            Map<String, Color> colours = new LinkedHashMap<>();
            for (Series s : series) {
                colours.computeIfAbsent(s.path, p -> PALETTE[colours.size() % PALETTE.length]);
            }
            for (int pass = 0; pass < 2; pass++) { // thin rounds first, bold medians on top
                for (Series s : series) {
                    if (s.median != (pass == 1)) {
                        continue;
                    }
                    Color c = colours.get(s.path);
                    g.setColor(s.median ? c : new Color(c.getRed(), c.getGreen(), c.getBlue(), 110));
                    g.setStroke(new BasicStroke(s.median ? 2.5f : 1f));
                    Path2D.Double line = new Path2D.Double();
                    boolean first = true;
                    for (int i = 0; i < s.percentiles.length; i++) {
                        double n = nines(s.percentiles[i]);
                        if (n > MAX_NINES + 1e-9) {
                            continue;
                        }
                        double x = left + plotW * n / MAX_NINES;
                        double y = top + plotH - plotH * (Math.log10(Math.max(1, s.micros[i])) - yLo) / (yHi - yLo);
                        if (first) {
                            line.moveTo(x, y);
                            first = false;
                        } else {
                            line.lineTo(x, y);
                        }
                    }
                    g.draw(line);
                }
            }

            // legend
            int ly = top + 10;
            for (Map.Entry<String, Color> e : colours.entrySet()) {
                g.setColor(e.getValue());
                g.setStroke(new BasicStroke(2.5f));
                g.drawLine(left + plotW + 15, ly + 5, left + plotW + 45, ly + 5);
                g.setColor(Color.BLACK);
                g.drawString(e.getKey(), left + plotW + 52, ly + 10);
                ly += 22;
            }
            g.setColor(Color.DARK_GRAY);
            g.drawString("bold: median round", left + plotW + 15, ly + 14);
            g.drawString("thin: other rounds", left + plotW + 15, ly + 32);
        } finally {
            g.dispose();
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(image, "png", png.toFile());
    }

    /** -log10(1 - p): 0 for 0 %, 1 for 90 %, 2 for 99 %... */
    private static double nines(double percentile) {
        double rest = 1 - percentile / 100;
        return rest <= 0 ? Double.POSITIVE_INFINITY : -Math.log10(rest);
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.5f", v);
        return s.replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    private static String formatMicros(double us) {
        if (us >= 1_000_000) {
            return trim(us / 1_000_000) + " s";
        }
        if (us >= 1000) {
            return trim(us / 1000) + " ms";
        }
        return trim(us) + " µs";
    }
}
