package dev.connstate.dropwizard;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import dev.connstate.config.ModuleSettings;
import dev.connstate.config.SettingSamples;
import io.dropwizard.configuration.YamlConfigurationFactory;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.jersey.validation.Validators;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The bundle's YAML carries every property of the module's table: each one set in the YAML, at
 * its name there, reaches the module's settings; the defaults are the module's.
 */
public class ConnStateFactoryTest
{
    /** The YAML fields that hold lists. */
    private static final Set<String> LISTS = Set.of(ModuleSettings.SINKS, ModuleSettings.LISTENERS, ModuleSettings.STATUS_ALLOW, ModuleSettings.CLIENT_EXEMPT);
    /** The YAML fields that hold a Dropwizard duration. */
    private static final Set<String> DURATIONS = Set.of(ModuleSettings.KEEP_ALIVE_TIMEOUT, ModuleSettings.REQUEST_HEADER_TIMEOUT, ModuleSettings.DRAIN_NEW_GRACE);

    @TempDir
    Path dir;

    @Test
    public void everyPropertyOfTheModuleIsAField() throws Exception
    {
        for (Map.Entry<String, String> sample : SettingSamples.all().entrySet())
        {
            String property = sample.getKey();
            ModuleSettings settings = parse(yaml(ConnStateFactory.NAMES.get(property), yamlValue(property, sample.getValue()))).getConnstate().settings();
            assertEquals(sample.getValue(), settings.value(property), property + " at connstate." + ConnStateFactory.NAMES.get(property));
        }
    }

    @Test
    public void theDefaultsAreTheModules() throws Exception
    {
        Map<String, String> properties = parse("connstate: {}\n").getConnstate().properties();
        ModuleSettings.defaults().forEach((property, value) -> assertEquals(value, properties.get(property), property));
        assertEquals(ModuleSettings.defaults().keySet(), properties.keySet());
    }

    @Test
    public void theNamesAreTheModulesButDrain()
    {
        assertEquals("jsonl.rollover.timezone", ConnStateFactory.NAMES.get(ModuleSettings.JSONL_ROLLOVER_TIMEZONE));
        assertEquals("connlog.retainDays", ConnStateFactory.NAMES.get(ModuleSettings.CONNLOG_RETAIN_DAYS));
        assertEquals("connlog.rollover.timezone", ConnStateFactory.NAMES.get(ModuleSettings.CONNLOG_ROLLOVER_TIMEZONE));
        assertEquals("drain.enabled", ConnStateFactory.NAMES.get(ModuleSettings.DRAIN));
        assertEquals("drain.newGrace", ConnStateFactory.NAMES.get(ModuleSettings.DRAIN_NEW_GRACE));
        assertEquals("keepAliveTimeout", ConnStateFactory.NAMES.get(ModuleSettings.KEEP_ALIVE_TIMEOUT));
        assertEquals("requestHeaderTimeout", ConnStateFactory.NAMES.get(ModuleSettings.REQUEST_HEADER_TIMEOUT));
        assertEquals("client.maxConnections", ConnStateFactory.NAMES.get(ModuleSettings.CLIENT_MAX_CONNECTIONS));
        assertEquals("client.maxNew", ConnStateFactory.NAMES.get(ModuleSettings.CLIENT_MAX_NEW));
        assertEquals("client.exempt", ConnStateFactory.NAMES.get(ModuleSettings.CLIENT_EXEMPT));
        assertEquals(ModuleSettings.defaults().keySet(), ConnStateFactory.NAMES.keySet());
    }

    /** The module's text as YAML: a list, a duration in milliseconds, or a string. */
    private static String yamlValue(String property, String text)
    {
        if (LISTS.contains(property))
            return "['" + text + "']";
        if (DURATIONS.contains(property))
            return text + "ms";
        return "'" + text + "'";
    }

    /** {@code connstate:} with one field set at its dotted path. */
    private static String yaml(String path, String value)
    {
        StringBuilder yaml = new StringBuilder("connstate:\n");
        String[] keys = path.split("\\.");
        for (int i = 0; i < keys.length; i++)
        {
            yaml.append("  ".repeat(i + 1)).append(keys[i]).append(':');
            yaml.append(i == keys.length - 1 ? " " + value + "\n" : "\n");
        }
        return yaml.toString();
    }

    private BundleTest.HelloConfiguration parse(String yaml) throws Exception
    {
        Path file = dir.resolve("config.yml");
        Files.writeString(file, yaml);
        return new YamlConfigurationFactory<>(BundleTest.HelloConfiguration.class, Validators.newValidator(), Jackson.newObjectMapper(), "dw").build(file.toFile());
    }
}
