package dev.grpckeepalive.test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;

import org.springframework.context.ConfigurableApplicationContext;

/** Plain HTTP GETs against an application started by {@link TestApps#observed}. */
public final class Http {

	/**
	 * Bounds for an answer, not for its speed: Actuator's first request in a JVM on a loaded 2-core machine, with
	 * tests running beside it, has taken over 10 s.
	 */
	private static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15)).build();

	private Http() {
	}

	public static HttpResponse<String> get(ConfigurableApplicationContext context, String path) throws Exception {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + TestApps.httpPort(context) + path))
			.timeout(Duration.ofSeconds(30))
			.GET()
			.build();
		return client.send(request, HttpResponse.BodyHandlers.ofString());
	}

	/** GETs a path that must answer 200 and parses the JSON body. */
	public static DocumentContext json(ConfigurableApplicationContext context, String path) throws Exception {
		HttpResponse<String> response = get(context, path);
		if (response.statusCode() != 200) {
			throw new AssertionError("GET " + path + " answered " + response.statusCode() + ": " + response.body());
		}
		return JsonPath.parse(response.body());
	}

}
