package dev.connstate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The packages are layers and the arrows point down only (docs/architecture.md): a class of a
 * package names classes of its own layer or of layers below, never above, so no package cycle can
 * form. Read from the sources' imports and fully qualified names.
 */
public class PackageLayersTest
{
    /** Each package of the main sources and its layer, lowest first. */
    private static final Map<String, Integer> LAYERS = Map.ofEntries(
        // The model: states, the event, the listener. No Jetty.
        Map.entry("dev.connstate", 0),
        // The sinks, on the model alone.
        Map.entry("dev.connstate.sink", 1),
        // The engine that receives Jetty's callbacks, and its public API.
        Map.entry("dev.connstate.jetty", 2),
        // Metrics on the tracker.
        Map.entry("dev.connstate.metrics", 3),
        Map.entry("dev.connstate.micrometer", 4),
        Map.entry("dev.connstate.otel", 4),
        // The module's configuration and the one assembly.
        Map.entry("dev.connstate.config", 5),
        // The integrations.
        Map.entry("dev.connstate.spring", 6),
        Map.entry("dev.connstate.dropwizard", 6));

    private static final Pattern PACKAGE = Pattern.compile("^package ([a-z.]+);", Pattern.MULTILINE);
    private static final Pattern REFERENCE = Pattern.compile("\\b(dev\\.connstate(?:\\.[a-z]+)*)\\.[A-Z]");

    @Test
    public void arrowsPointDownOnly() throws IOException
    {
        Map<String, TreeSet<String>> upward = new TreeMap<>();
        List<String> unknown = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java")))
        {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList())
            {
                String source = Files.readString(file, StandardCharsets.UTF_8);
                Matcher declared = PACKAGE.matcher(source);
                if (!declared.find())
                    continue;
                String from = declared.group(1);
                if (!LAYERS.containsKey(from))
                {
                    unknown.add(from);
                    continue;
                }
                Matcher reference = REFERENCE.matcher(source);
                while (reference.find())
                {
                    String to = reference.group(1);
                    Integer layer = LAYERS.get(to);
                    if (layer == null)
                        unknown.add(to);
                    else if (layer > LAYERS.get(from) || (layer.equals(LAYERS.get(from)) && !to.equals(from)))
                        upward.computeIfAbsent(file.getFileName() + " (" + from + ")", k -> new TreeSet<>()).add(to);
                }
            }
        }
        assertEquals(List.of(), unknown, "packages without a layer: give them one here and in docs/architecture.md");
        assertEquals(Map.of(), upward, "references to a layer above, or sideways");
    }

    @Test
    public void theModelHasNoJetty() throws IOException
    {
        List<String> jetty = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("src/main/java/dev/connstate")))
        {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList())
            {
                if (Files.readString(file, StandardCharsets.UTF_8).contains("org.eclipse.jetty"))
                    jetty.add(file.getFileName().toString());
            }
        }
        assertEquals(List.of(), jetty);
    }
}
