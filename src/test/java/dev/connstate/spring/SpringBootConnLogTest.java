package dev.connstate.spring;

import java.nio.file.Path;
import java.util.Map;

import dev.connstate.config.ConnLogFile;
import dev.connstate.spring.app.HelloApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code connstate.sinks=connlog} and the {@code connstate.connlog.*} properties on a real Spring
 * Boot application: one connection through Boot's Jetty, its record in the file they name.
 */
public class SpringBootConnLogTest
{
    @TempDir
    Path dir;

    @Test
    public void aConnectionsRecordInTheConfiguredFile() throws Exception
    {
        Path file = dir.resolve("connlogs/connections.jsonl");
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(HelloApplication.class)
            .properties("server.port=0", "server.address=127.0.0.1")
            .run("--connstate.sinks=connlog", "--connstate.connlog.file=" + file, "--connstate.connlog.retain-days=7", "--connstate.connlog.rollover.timezone=UTC"))
        {
            ConnLogFile.oneRequest(context.getEnvironment().getRequiredProperty("local.server.port", Integer.class), "/hello");
            Map<String, Object> record = ConnLogFile.awaitOnlyRecord(file);
            assertEquals("closed", record.get("end"));
            assertEquals(1L, record.get("requests"));
        }
    }
}
