package dev.connstate.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Live-object class histograms of a JVM ({@code jcmd PID GC.class_histogram}, which runs a full GC first). */
final class Histogram
{
    private static final Pattern LAMBDA = Pattern.compile("\\$\\$Lambda\\$\\d+/0x[0-9a-f]+");
    private static final Pattern ROW = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+).*$");

    private Histogram()
    {
    }

    /** @return class name to {instances, bytes} */
    static Map<String, long[]> of(long pid) throws IOException, InterruptedException
    {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        Process p = new ProcessBuilder(jcmd, String.valueOf(pid), "GC.class_histogram").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Map<String, long[]> classes = new HashMap<>();
        for (String line : out.split("\n"))
        {
            Matcher m = ROW.matcher(line);
            if (m.matches())
            {
                // Lambda and hidden classes are named differently in every JVM: group them by their host class.
                String name = LAMBDA.matcher(m.group(3)).replaceAll("\\$\\$Lambda");
                long[] counts = classes.computeIfAbsent(name, k -> new long[2]);
                counts[0] += Long.parseLong(m.group(1));
                counts[1] += Long.parseLong(m.group(2));
            }
        }
        return classes;
    }

    /** @return markdown rows of the classes whose bytes grew the most from {@code base} to {@code other}, per connection */
    static List<String> diff(Map<String, long[]> base, Map<String, long[]> other, int connections, int top)
    {
        Set<String> names = new HashSet<>(base.keySet());
        names.addAll(other.keySet());
        List<Object[]> deltas = new ArrayList<>();
        long total = 0;
        for (String name : names)
        {
            long[] b = base.getOrDefault(name, new long[2]);
            long[] o = other.getOrDefault(name, new long[2]);
            long bytes = o[1] - b[1];
            total += bytes;
            deltas.add(new Object[]{name, o[0] - b[0], bytes});
        }
        deltas.sort((x, y) -> Long.compare(Math.abs((Long)y[2]), Math.abs((Long)x[2])));
        List<String> rows = new ArrayList<>();
        for (Object[] d : deltas.subList(0, Math.min(top, deltas.size())))
            rows.add(String.format("| `%s` | %+.2f | %+.1f |", d[0], (Long)d[1] / (double)connections, (Long)d[2] / (double)connections));
        rows.add(String.format("| all classes | | %+.1f |", total / (double)connections));
        return rows;
    }
}
