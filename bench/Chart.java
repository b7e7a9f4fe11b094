import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;

/**
 * The TPS chart of bench/run.sh: pgbench -S throughput against the client count for each target, one line each.
 *
 * <pre>java -Djava.awt.headless=true bench/Chart.java results.tsv docs/bench-tps.png</pre>
 *
 * Single-file source launch, only java.awt and ImageIO: the machine has no plotting library, and a JDK is needed
 * anyway for the proxy. Reads the "select-N" rows of run.sh's results.tsv (scenario, target, clients, tps, ...). The
 * client counts are spaced evenly on the x axis (1, 10, 50, 200 would crowd at the left of a linear axis).
 */
public class Chart {
    static final int W = 800, H = 480, LEFT = 80, RIGHT = 170, TOP = 50, BOTTOM = 60;
    static final Map<String, Color> COLORS = new LinkedHashMap<>();
    static {
        COLORS.put("direct", new Color(0x55, 0x55, 0x55));
        COLORS.put("pgbouncer", new Color(0x1f, 0x77, 0xb4));
        COLORS.put("proxy", new Color(0xd6, 0x27, 0x28));
    }
    static final Map<String, String> LABELS = Map.of("direct", "PostgreSQL direct", "pgbouncer", "PgBouncer",
            "proxy", "this proxy");

    public static void main(String[] args) throws Exception {
        // target -> (clients -> tps)
        Map<String, TreeMap<Integer, Double>> series = new LinkedHashMap<>();
        for (String target : COLORS.keySet()) series.put(target, new TreeMap<>());
        List<String> lines = Files.readAllLines(Path.of(args[0]));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split("\t");
            if (!f[0].startsWith("select-") || !series.containsKey(f[1])) continue;
            series.get(f[1]).put(Integer.parseInt(f[2]), Double.parseDouble(f[3]));
        }
        List<Integer> clients = new ArrayList<>(new java.util.TreeSet<>(
                series.values().stream().flatMap(m -> m.keySet().stream()).toList()));
        double max = series.values().stream().flatMap(m -> m.values().stream()).mapToDouble(d -> d).max().orElse(1);
        double top = niceCeiling(max);

        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        int plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;

        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("pgbench -S: transactions per second against clients (pool of 10)", LEFT, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));

        // Horizontal grid lines with TPS labels, five steps.
        for (int i = 0; i <= 5; i++) {
            int y = TOP + plotH - (int) (plotH * i / 5.0);
            g.setColor(new Color(0xdd, 0xdd, 0xdd));
            g.drawLine(LEFT, y, LEFT + plotW, y);
            g.setColor(Color.BLACK);
            String label = String.format("%.0f", top * i / 5);
            g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), y + 4);
        }
        g.drawLine(LEFT, TOP, LEFT, TOP + plotH);
        g.drawLine(LEFT, TOP + plotH, LEFT + plotW, TOP + plotH);
        for (int c : clients) {
            int x = xOf(clients.indexOf(c), clients.size(), plotW);
            String label = String.valueOf(c);
            g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, TOP + plotH + 18);
        }
        g.drawString("clients", LEFT + plotW / 2 - 20, TOP + plotH + 40);

        int legendY = TOP + 10;
        for (var e : series.entrySet()) {
            Color color = COLORS.get(e.getKey());
            g.setColor(color);
            g.setStroke(new BasicStroke(2.5f));
            int px = -1, py = -1;
            for (var point : e.getValue().entrySet()) {
                int x = xOf(clients.indexOf(point.getKey()), clients.size(), plotW);
                int y = TOP + plotH - (int) (plotH * point.getValue() / top);
                if (px >= 0) g.drawLine(px, py, x, y);
                g.fillOval(x - 4, y - 4, 8, 8);
                px = x;
                py = y;
            }
            g.fillRect(LEFT + plotW + 20, legendY - 9, 18, 10);
            g.setColor(Color.BLACK);
            g.drawString(LABELS.get(e.getKey()), LEFT + plotW + 44, legendY);
            legendY += 22;
        }
        g.dispose();
        ImageIO.write(img, "png", new File(args[1]));
    }

    static int xOf(int index, int count, int plotW) {
        return LEFT + (count == 1 ? plotW / 2 : 30 + (plotW - 60) * index / (count - 1));
    }

    /** The smallest 1, 2 or 5 times a power of ten at or above v, so that the axis labels are round. */
    static double niceCeiling(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(Math.max(v, 1))));
        for (double m : new double[] {1, 2, 5, 10}) if (m * p >= v) return m * p;
        return 10 * p;
    }
}
