package dev.railyard.benchmarks.daemon;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
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
 * Time against cluster size, log-log (Java2D, headless): per path one colour, its full sync solid with circles
 * and its change -> traffic p50 dashed with squares. A full sync not done within its cap is an open triangle at
 * the cap ("&gt; cap"). The targets are grey crosses.
 */
final class ScalingPlot {
    private static final Color[] PALETTE = {
        new Color(0x1f, 0x77, 0xb4), new Color(0x2c, 0xa0, 0x2c), new Color(0x94, 0x67, 0xbd),
        new Color(0xd6, 0x27, 0x28), new Color(0xff, 0x7f, 0x0e), new Color(0x55, 0x55, 0x55)};
    /** (services, ms, label) of the targets. */
    private static final double[][] TARGETS = {{10_000, 5_000}, {50_000, 30_000}, {10_000, 30}, {50_000, 50}};
    private static final String[] TARGET_LABELS = {"full ≤ 5 s", "full ≤ 30 s", "p50 ≤ 30 ms", "p50 ≤ 50 ms"};

    private record Point(double services, double ms, boolean overCap) {
    }

    private ScalingPlot() {
    }

    /**
     * Redraws the plot from a run's summary.csv: {@code ScalingPlot summary.csv out.png [capSeconds=300]} (the cap
     * is where a full sync not done within it is drawn).
     */
    public static void main(String[] args) throws IOException {
        long cap = args.length > 2 ? Long.parseLong(args[2]) : 300;
        List<PathResult> results = new ArrayList<>();
        List<String> lines = Files.readAllLines(Path.of(args[0]));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            PathResult r = new PathResult(ProgrammingPath.fromId(f[0]), Integer.parseInt(f[1]), cap);
            r.overCap = f[2].equals("full_sync_over_cap");
            r.skipped = f[2].equals("not_tried");
            r.fullMs = f[3].isEmpty() ? Double.NaN : Double.parseDouble(f[3]);
            if (!f[8].isEmpty()) {
                // One round holding the p50 is enough for the plot, which draws change -> traffic p50 only.
                PathResult.Round round = new PathResult.Round(1, "");
                round.traffic.add(Double.parseDouble(f[8]));
                r.rounds.add(round);
            }
            results.add(r);
        }
        write(results, Path.of(args[1]));
    }

    static void write(List<PathResult> results, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Map<ProgrammingPath, List<Point>> full = new LinkedHashMap<>();
        Map<ProgrammingPath, List<Point>> traffic = new LinkedHashMap<>();
        double minMs = 1;
        double maxMs = 10;
        double minN = Double.MAX_VALUE;
        double maxN = 1;
        for (PathResult r : results) {
            List<Point> f = full.computeIfAbsent(r.path, p -> new ArrayList<>());
            List<Point> t = traffic.computeIfAbsent(r.path, p -> new ArrayList<>());
            if (r.overCap) {
                f.add(new Point(r.services, r.capSeconds * 1000.0, true));
            } else if (!Double.isNaN(r.fullMs)) {
                f.add(new Point(r.services, r.fullMs, false));
            }
            double p50 = PathResult.percentile(r.traffic(), 50);
            if (!Double.isNaN(p50)) {
                t.add(new Point(r.services, p50, false));
            }
            minN = Math.min(minN, r.services);
            maxN = Math.max(maxN, r.services);
        }
        for (List<Point> points : concat(full, traffic)) {
            for (Point p : points) {
                minMs = Math.min(minMs, Math.max(0.1, p.ms));
                maxMs = Math.max(maxMs, p.ms);
            }
        }
        for (double[] target : TARGETS) {
            minMs = Math.min(minMs, target[1]);
            maxMs = Math.max(maxMs, target[1]);
            minN = Math.min(minN, target[0]);
            maxN = Math.max(maxN, target[0]);
        }
        if (minN == Double.MAX_VALUE) {
            minN = 1000;
        }
        double xLo = Math.floor(Math.log10(minN) * 2) / 2 - 0.1;
        double xHi = Math.ceil(Math.log10(maxN) * 2) / 2 + 0.1;
        double yLo = Math.floor(Math.log10(minMs));
        double yHi = Math.ceil(Math.log10(maxMs));

        int width = 1100;
        int height = 700;
        int left = 90;
        int right = 330;
        int top = 50;
        int bottom = 70;
        int plotW = width - left - right;
        int plotH = height - top - bottom;
        Axis axis = new Axis(left, top, plotW, plotH, xLo, xHi, yLo, yHi);

        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            FontMetrics fm = g.getFontMetrics();

            for (int e = (int) Math.floor(xLo); e <= (int) Math.ceil(xHi); e++) {
                for (int m = 1; m < 10; m++) {
                    double v = Math.log10(m) + e;
                    if (v < xLo || v > xHi) {
                        continue;
                    }
                    int x = (int) Math.round(axis.x(Math.pow(10, v)));
                    g.setColor(m == 1 ? new Color(0xcc, 0xcc, 0xcc) : new Color(0xf0, 0xf0, 0xf0));
                    g.drawLine(x, top, x, top + plotH);
                    if (m == 1 || m == 5 || m == 2) {
                        g.setColor(Color.DARK_GRAY);
                        String label = String.format(Locale.ROOT, "%,d", Math.round(Math.pow(10, v)));
                        g.drawString(label, x - fm.stringWidth(label) / 2, top + plotH + 20);
                    }
                }
            }
            for (int e = (int) yLo; e <= (int) yHi; e++) {
                for (int m = 1; m < 10; m++) {
                    double v = Math.log10(m) + e;
                    if (v > yHi + 1e-9) {
                        break;
                    }
                    int y = (int) Math.round(axis.y(Math.pow(10, v)));
                    g.setColor(m == 1 ? new Color(0xcc, 0xcc, 0xcc) : new Color(0xf0, 0xf0, 0xf0));
                    g.drawLine(left, y, left + plotW, y);
                    if (m == 1) {
                        g.setColor(Color.DARK_GRAY);
                        String label = PathResult.time(Math.pow(10, e)).replace(".00", "");
                        g.drawString(label, left - 8 - fm.stringWidth(label), y + fm.getAscent() / 2 - 1);
                    }
                }
            }
            g.setColor(Color.BLACK);
            g.drawRect(left, top, plotW, plotH);
            String xTitle = "services (10 endpoints each), log scale";
            g.drawString(xTitle, left + plotW / 2 - fm.stringWidth(xTitle) / 2, top + plotH + 45);
            Graphics2D rotated = (Graphics2D) g.create();
            rotated.rotate(-Math.PI / 2);
            String yTitle = "time, log scale";
            rotated.drawString(yTitle, -(top + plotH / 2) - fm.stringWidth(yTitle) / 2, 25);
            rotated.dispose();
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString("railyard proxy: full sync and change → traffic p50 against cluster size", left, top - 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));

            // targets
            g.setStroke(new BasicStroke(2f));
            for (int i = 0; i < TARGETS.length; i++) {
                int x = (int) Math.round(axis.x(TARGETS[i][0]));
                int y = (int) Math.round(axis.y(TARGETS[i][1]));
                g.setColor(new Color(0x88, 0x88, 0x88));
                g.drawLine(x - 6, y - 6, x + 6, y + 6);
                g.drawLine(x - 6, y + 6, x + 6, y - 6);
                g.drawString(TARGET_LABELS[i], x + 9, y - 6);
            }

            Stroke solid = new BasicStroke(2.2f);
            Stroke dashed = new BasicStroke(2.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                    new float[] {8f, 5f}, 0f);
            int legendY = top + 10;
            int colour = 0;
            Map<Double, Integer> overCapDrawn = new java.util.HashMap<>();
            for (ProgrammingPath path : full.keySet()) {
                Color c = PALETTE[colour++ % PALETTE.length];
                draw(g, axis, full.get(path), c, solid, false, overCapDrawn);
                draw(g, axis, traffic.get(path), c, dashed, true, overCapDrawn);
                g.setColor(c);
                g.setStroke(solid);
                g.drawLine(left + plotW + 15, legendY + 5, left + plotW + 45, legendY + 5);
                g.setColor(Color.BLACK);
                g.drawString(path.id() + " full sync", left + plotW + 52, legendY + 10);
                legendY += 20;
                g.setColor(c);
                g.setStroke(dashed);
                g.drawLine(left + plotW + 15, legendY + 5, left + plotW + 45, legendY + 5);
                g.setColor(Color.BLACK);
                g.drawString(path.id() + " change→traffic p50", left + plotW + 52, legendY + 10);
                legendY += 26;
            }
            g.setColor(Color.DARK_GRAY);
            g.drawString("△ full sync not done within its cap", left + plotW + 15, legendY + 10);
            g.drawString("✕ issue 11's targets", left + plotW + 15, legendY + 28);
        } finally {
            g.dispose();
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(image, "png", png.toFile());
    }

    private static void draw(Graphics2D g, Axis axis, List<Point> points, Color c, Stroke stroke, boolean squares,
                             Map<Double, Integer> overCapDrawn) {
        g.setColor(c);
        g.setStroke(stroke);
        Path2D.Double line = new Path2D.Double();
        boolean first = true;
        for (Point p : points) {
            if (p.overCap) {
                continue;
            }
            if (first) {
                line.moveTo(axis.x(p.services), axis.y(p.ms));
                first = false;
            } else {
                line.lineTo(axis.x(p.services), axis.y(p.ms));
            }
        }
        g.draw(line);
        g.setStroke(new BasicStroke(1.5f));
        for (Point p : points) {
            int x = (int) Math.round(axis.x(p.services));
            int y = (int) Math.round(axis.y(p.ms));
            if (p.overCap) {
                // Several paths over the same cap at one size: stacked, so that none hides another.
                int stacked = overCapDrawn.merge(p.services, 1, Integer::sum) - 1;
                y -= 18 * stacked;
                g.drawPolygon(new int[] {x - 6, x + 6, x}, new int[] {y + 5, y + 5, y - 7}, 3);
                g.drawString("> cap", x + 8, y + 4);
            } else if (squares) {
                g.fillRect(x - 4, y - 4, 8, 8);
            } else {
                g.fillOval(x - 4, y - 4, 9, 9);
            }
        }
    }

    private static List<List<Point>> concat(Map<ProgrammingPath, List<Point>> a, Map<ProgrammingPath, List<Point>> b) {
        List<List<Point>> all = new ArrayList<>(a.values());
        all.addAll(b.values());
        return all;
    }

    /** Data to pixels on log axes. */
    private record Axis(int left, int top, int width, int height, double xLo, double xHi, double yLo, double yHi) {
        double x(double services) {
            return left + width * (Math.log10(services) - xLo) / (xHi - xLo);
        }

        double y(double ms) {
            return top + height - height * (Math.log10(Math.max(0.1, ms)) - yLo) / (yHi - yLo);
        }
    }
}
