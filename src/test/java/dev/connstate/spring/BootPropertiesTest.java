package dev.connstate.spring;

import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.connstate.config.ModuleSettings;
import dev.connstate.config.SettingSamples;
import org.eclipse.jetty.util.ajax.JSON;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Boot's {@code connstate.*} properties carry every property of the module's table, but those Boot
 * does its own way: each one bound under its Boot name reaches the module's settings, and Boot's
 * configuration metadata describes it.
 */
public class BootPropertiesTest
{
    /** The module's properties that Boot does its own way, and how. */
    private static final Map<String, String> BOOTS_OWN_WAY = Map.of(
        ModuleSettings.LISTENERS, "every ConnStateListener bean is registered",
        ModuleSettings.STATUS_PATH, "the actuator endpoint connstate serves the table",
        ModuleSettings.STATUS_ALLOW, "the actuator's own exposure and security guard the endpoint",
        ModuleSettings.OTEL, "the Micrometer binder reports to every registry Boot has, OTLP's included");

    @Test
    public void everyPropertyOfTheModuleIsABootProperty()
    {
        for (Map.Entry<String, String> sample : SettingSamples.all().entrySet())
        {
            String property = sample.getKey();
            if (BOOTS_OWN_WAY.containsKey(property))
                continue;
            String name = ConnStateProperties.name(property);
            ConnStateProperties properties = new Binder(new MapConfigurationPropertySource(Map.of(name, sample.getValue())))
                .bindOrCreate(ConnStateProperties.PREFIX, ConnStateProperties.class);
            assertEquals(sample.getValue(), properties.settings().value(property), property + " as " + name);
        }
    }

    @Test
    public void bootsMetadataDescribesEachOne() throws Exception
    {
        Set<String> described = new TreeSet<>();
        try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json"))
        {
            @SuppressWarnings("unchecked")
            Map<String, Object> metadata = (Map<String, Object>)new JSON().fromJSON(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            for (Object entry : (Object[])metadata.get("properties"))
            {
                @SuppressWarnings("unchecked")
                Map<String, Object> property = (Map<String, Object>)entry;
                if (property.get("description") != null && !property.get("description").toString().isBlank())
                    described.add(property.get("name").toString());
            }
        }
        Set<String> expected = new TreeSet<>();
        for (String property : ModuleSettings.defaults().keySet())
        {
            if (!BOOTS_OWN_WAY.containsKey(property))
                expected.add(ConnStateProperties.name(property));
        }
        expected.removeAll(described);
        assertEquals(Set.of(), expected, "Boot properties without a description in the metadata");
    }

    /** Boot does these its own way: not properties, so a setting Boot could carry is not left out by mistake. */
    @Test
    public void bootsOwnWayIsNoProperty()
    {
        for (String property : BOOTS_OWN_WAY.keySet())
        {
            Map<String, String> source = new HashMap<>();
            source.put(ConnStateProperties.name(property), SettingSamples.all().get(property));
            ConnStateProperties properties = new Binder(new MapConfigurationPropertySource(source)).bindOrCreate(ConnStateProperties.PREFIX, ConnStateProperties.class);
            assertEquals(ModuleSettings.defaultValue(property), properties.settings().value(property), property + " is Boot's own way: " + BOOTS_OWN_WAY.get(property));
        }
        assertTrue(List.copyOf(ModuleSettings.defaults().keySet()).containsAll(BOOTS_OWN_WAY.keySet()));
    }
}
