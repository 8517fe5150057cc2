package example;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The example as its users run it, on the Jetty and Micrometer that Boot manages: the page, the
 * connection table and the scrape's open connections by state.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public class ExampleApplicationTest
{
    @Value("${local.server.port}")
    private int port;

    @Test
    public void thePageTheTableAndTheScrape() throws Exception
    {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        assertEquals("hello from jetty-connstate on Spring Boot\n", get(client, "/").body());
        HttpResponse<String> table = get(client, "/actuator/connstate");
        assertEquals(200, table.statusCode());
        // The client's one connection, asking: active.
        assertTrue(table.body().contains("\"counts\":{\"new\":0,\"active\":1,\"idle\":0}"), table.body());
        String scrape = get(client, "/actuator/prometheus").body();
        assertTrue(scrape.contains("http_server_open_connections{http_connection_state=\"active\""), scrape);
        assertTrue(scrape.contains("http_server_open_connections{http_connection_state=\"idle\""), scrape);
    }

    private HttpResponse<String> get(HttpClient client, String path) throws Exception
    {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
