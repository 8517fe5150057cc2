package dev.connstate.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.connstate.sink.LogSink;
import dev.connstate.jetty.QueuedListener;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The documentation of the module's properties has one source, the {@code [ini-template]} of
 * {@code src/main/config/modules/connstate.mod}: it names every property of
 * {@link ModuleSettings#defaults()} with the default the code has, and lists every placeholder of
 * {@link LogSink}; the committed {@code jetty-base/start.d/connstate.ini} is what {@code start.jar}
 * writes from it; the module's XML passes every property of the table, one way.
 *
 * <p>To write the ini again after changing the template: {@code mvn package}, then in
 * {@code jetty-base/}, {@code rm start.d/connstate.ini; java -jar $JETTY_HOME/start.jar
 * --add-modules=connstate jetty.connstate.sinks=log} (the failure message below shows the text
 * too).</p>
 */
public class ModuleIniTest
{
    private static final Path MOD = Path.of("src/main/config/modules/connstate.mod");
    private static final Path INI = Path.of("jetty-base/start.d/connstate.ini");
    private static final Path XML = Path.of("src/main/config/etc/jetty-connstate.xml");
    /** What jetty-base's ini sets: the quick start logs. */
    private static final Map<String, String> JETTY_BASE_SETS = Map.of(ModuleSettings.SINKS, "log");
    /** A property line of an ini file, commented out or not, as start.jar's {@code Module} matches it. */
    private static final Pattern PROPERTY_LINE = Pattern.compile("^(#?)\\s*([^=\\s]+)=(.*)$");
    private static final Pattern SECTION = Pattern.compile("\\s*\\[([^]]*)]\\s*");

    /**
     * The lines of a section of a {@code .mod} file as start.jar reads them: trimmed; comments and
     * blank lines dropped, except in {@code [ini-template]}, which keeps them but for the asciidoc
     * tag lines ({@code tag::}, {@code end::}).
     */
    static List<String> section(List<String> mod, String name)
    {
        List<String> lines = new ArrayList<>();
        String current = "";
        boolean template = name.equalsIgnoreCase("ini-template");
        for (String raw : mod)
        {
            String line = raw.trim();
            Matcher section = SECTION.matcher(line);
            if (section.matches())
                current = section.group(1).trim();
            else if (current.equalsIgnoreCase(name))
            {
                boolean comment = line.isEmpty() || line.startsWith("#");
                if (!comment || (template && !line.contains("tag::") && !line.contains("end::")))
                    lines.add(line);
            }
        }
        return lines;
    }

    /**
     * What {@code java -jar start.jar --add-modules=connstate NAME=VALUE...} (Jetty 12.1) writes to
     * {@code start.d/connstate.ini}: a header with the description, the module, then the template,
     * where a property given on the command line replaces its line.
     */
    static String startJarIni(List<String> mod, Map<String, String> given)
    {
        StringBuilder ini = new StringBuilder();
        ini.append("# --------------------------------------- \n");
        ini.append("# Module: connstate\n");
        for (String line : section(mod, "description"))
            ini.append("# ").append(line).append('\n');
        ini.append("# --------------------------------------- \n");
        ini.append("--modules=connstate\n");
        ini.append('\n');
        for (String line : section(mod, "ini-template"))
        {
            Matcher property = PROPERTY_LINE.matcher(line);
            String value = property.matches() ? given.get(property.group(2)) : null;
            if (value != null && (property.group(1).equals("#") || !value.equals(property.group(3))))
                ini.append(property.group(2)).append('=').append(value).append('\n');
            else
                ini.append(line).append('\n');
        }
        ini.append('\n');
        return ini.toString();
    }

    /** The properties of ini lines, in their order: name and value, commented out or not. */
    private static Map<String, String> properties(List<String> lines)
    {
        Map<String, String> properties = new LinkedHashMap<>();
        for (String line : lines)
        {
            Matcher property = PROPERTY_LINE.matcher(line);
            if (property.matches() && property.group(2).startsWith(ModuleSettings.PREFIX))
                assertNull(properties.put(property.group(2), property.group(3)), "documented twice: " + property.group(2));
        }
        return properties;
    }

    /** The comment paragraph just above a property's line in the template. */
    private static String paragraphOf(List<String> template, String property)
    {
        int at = -1;
        for (int i = 0; i < template.size(); i++)
        {
            if (template.get(i).startsWith("#" + property + "="))
                at = i;
        }
        assertTrue(at >= 0, "no line #" + property + "= in the template");
        int start = at;
        while (start > 0 && template.get(start - 1).startsWith("##"))
            start--;
        return String.join("\n", template.subList(start, at));
    }

    private static List<String> mod() throws IOException
    {
        return Files.readAllLines(MOD, StandardCharsets.UTF_8);
    }

    @Test
    public void theTemplateNamesEveryPropertyWithItsDefault() throws IOException
    {
        List<String> template = section(mod(), "ini-template");
        // Every property, in the code's order, commented out (start.jar leaves them to their
        // defaults), with the code's default.
        assertEquals(List.copyOf(ModuleSettings.defaults().entrySet()), List.copyOf(properties(template).entrySet()));
        for (String property : ModuleSettings.defaults().keySet())
        {
            assertTrue(template.contains("#" + property + "=" + ModuleSettings.defaultValue(property)), property);
            assertFalse(paragraphOf(template, property).isBlank(), "no documentation above " + property);
        }
    }

    /**
     * The module's XML passes every property of the table the one way, as text to
     * {@code setProperty}, in the table's order, and no other.
     */
    @Test
    public void theXmlPassesEveryPropertyOneWay() throws IOException
    {
        String xml = Files.readString(XML, StandardCharsets.UTF_8).replaceAll("(?s)<!--.*?-->", "");
        Matcher call = Pattern.compile("<Call name=\"setProperty\"><Arg>([^<]+)</Arg><Arg><Property name=\"([^\"]+)\"/></Arg></Call>").matcher(xml);
        List<String> passed = new ArrayList<>();
        while (call.find())
        {
            assertEquals(call.group(1), call.group(2), "a property passed under another name");
            passed.add(call.group(1));
        }
        assertEquals(List.copyOf(ModuleSettings.defaults().keySet()), passed);
        // Nothing set another way: only the base directory is a <Set>.
        Matcher set = Pattern.compile("<Set name=\"([^\"]+)\"").matcher(xml);
        List<String> setters = new ArrayList<>();
        while (set.find())
            setters.add(set.group(1));
        assertEquals(List.of("baseDirectory"), setters);
    }

    @Test
    public void theTemplateListsEveryPlaceholderOfTheLogSink() throws IOException
    {
        List<String> template = section(mod(), "ini-template");
        List<String> documented = new ArrayList<>();
        Matcher placeholder = Pattern.compile("\\{([A-Za-z]+)}").matcher(paragraphOf(template, ModuleSettings.LOG_FORMAT));
        while (placeholder.find())
            documented.add(placeholder.group(1));
        assertEquals(logSinkPlaceholders(), documented);
    }

    /** The placeholders LogSink knows, in its order: the list its refusal of an unknown one gives. */
    private static List<String> logSinkPlaceholders()
    {
        String refusal;
        try
        {
            new LogSink("connstate", "{?}");
            throw new AssertionError("LogSink took the placeholder {?}");
        }
        catch (IllegalArgumentException x)
        {
            refusal = x.getMessage();
        }
        Matcher known = Pattern.compile("\\(known: \\[([^]]*)]\\)$").matcher(refusal);
        assertTrue(known.find(), () -> "LogSink's refusal no longer lists the placeholders it knows: " + refusal);
        List<String> placeholders = Arrays.stream(known.group(1).split(",")).map(String::trim).toList();
        // Each of them is taken.
        for (String name : placeholders)
            assertEquals("{" + name + "}", new LogSink("connstate", "{" + name + "}").getFormat());
        return placeholders;
    }

    @Test
    public void theTemplateStatesTheQueueCapacityRange() throws IOException
    {
        String paragraph = paragraphOf(section(mod(), "ini-template"), ModuleSettings.QUEUE_CAPACITY);
        assertTrue(paragraph.contains("(1 to " + QueuedListener.MAX_CAPACITY + ")"), paragraph);
    }

    @Test
    public void theCommittedIniIsWhatStartJarWrites() throws IOException
    {
        String expected = startJarIni(mod(), JETTY_BASE_SETS);
        String committed = Files.readString(INI, StandardCharsets.UTF_8);
        assertEquals(expected, committed, () -> INI + " is not what start.jar writes from " + MOD + " with " + JETTY_BASE_SETS +
            " (see this class's javadoc to write it again); it should be:\n" + expected);

        // So the quick start's base documents every property with the code's default, and logs.
        List<String> lines = committed.lines().toList();
        assertEquals(List.copyOf(ModuleSettings.defaults().entrySet()), List.copyOf(properties(lines).entrySet()));
        assertTrue(lines.contains("jetty.connstate.sinks=log"), "jetty-base does not enable the log sink");
        assertEquals(1, lines.stream().filter(line -> line.startsWith(ModuleSettings.PREFIX)).count(), "jetty-base sets more than the sinks");
    }

    @Test
    public void startJarsHeaderAndOverrides()
    {
        // The emulation above, on a template of two properties: a property given replaces its
        // line (commented out or not), tag lines and indentation go, comments stay.
        List<String> mod = List.of(
            "[description]",
            "  One line.",
            "# not the description",
            "[ini-template]",
            "# tag::documentation[]",
            "  ## Doc.",
            "#jetty.connstate.a=1",
            "",
            "jetty.connstate.b=2",
            "# end::documentation[]");
        assertEquals("""
            # ---------------------------------------\s
            # Module: connstate
            # One line.
            # ---------------------------------------\s
            --modules=connstate

            ## Doc.
            jetty.connstate.a=5

            jetty.connstate.b=6

            """, startJarIni(mod, Map.of("jetty.connstate.a", "5", "jetty.connstate.b", "6")));
        assertTrue(startJarIni(mod, Map.of()).contains("\n#jetty.connstate.a=1\n\njetty.connstate.b=2\n"));
    }
}
