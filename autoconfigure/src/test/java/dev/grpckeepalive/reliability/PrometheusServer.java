package dev.grpckeepalive.reliability;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;

import dev.grpckeepalive.test.ExternalProcess;
import dev.grpckeepalive.test.FreePorts;

/**
 * A real Prometheus server (Debian's {@code prometheus}) on loopback, scraping targets every
 * second and evaluating rules every second. {@link Config#start} writes its configuration and
 * the rule files to a temporary directory, runs {@code prometheus} with its storage there and
 * returns once it is ready; {@link #close} kills the process and deletes the directory, also
 * when the test JVM ends first.
 */
final class PrometheusServer implements AutoCloseable {

	private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

	private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

	private final Process process;

	private final Path directory;

	private final Path log;

	private final int port;

	private final Thread killOnExit;

	private PrometheusServer(Process process, Path directory, Path log, int port) {
		this.process = process;
		this.directory = directory;
		this.log = log;
		this.port = port;
		this.killOnExit = new Thread(() -> {
			process.destroyForcibly();
			ExternalProcess.deleteQuietly(directory);
		}, "prometheus-cleanup");
		Runtime.getRuntime().addShutdownHook(this.killOnExit);
	}

	static Config config() {
		return new Config();
	}

	/** The result of an instant query: one entry per series, its labels and its value. */
	List<Series> query(String promql) throws IOException, InterruptedException {
		DocumentContext response = api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
		List<Map<String, Object>> result = response.read("$.data.result");
		List<Series> series = new ArrayList<>();
		for (Map<String, Object> entry : result) {
			@SuppressWarnings("unchecked")
			Map<String, String> labels = (Map<String, String>) entry.get("metric");
			@SuppressWarnings("unchecked")
			List<Object> sample = (List<Object>) entry.get("value");
			series.add(new Series(new LinkedHashMap<>(labels), value(String.valueOf(sample.get(1)))));
		}
		return series;
	}

	/**
	 * The result of a range query, as a dashboard panel asks for it: one entry per series, its
	 * labels and its values at every {@code step} from {@code start} to {@code end}.
	 */
	List<RangeSeries> queryRange(String promql, Instant start, Instant end, Duration step)
			throws IOException, InterruptedException {
		DocumentContext response = api("/api/v1/query_range?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)
				+ "&start=" + seconds(start) + "&end=" + seconds(end) + "&step=" + step.toMillis() / 1000.0);
		List<Map<String, Object>> result = response.read("$.data.result");
		List<RangeSeries> series = new ArrayList<>();
		for (Map<String, Object> entry : result) {
			@SuppressWarnings("unchecked")
			Map<String, String> labels = (Map<String, String>) entry.get("metric");
			@SuppressWarnings("unchecked")
			List<List<Object>> samples = (List<List<Object>>) entry.get("values");
			List<Double> values = new ArrayList<>();
			for (List<Object> sample : samples) {
				values.add(value(String.valueOf(sample.get(1))));
			}
			series.add(new RangeSeries(new LinkedHashMap<>(labels), values));
		}
		return series;
	}

	/** A sample value as Prometheus' API writes it: a number, {@code NaN}, {@code +Inf} or {@code -Inf}. */
	private static double value(String text) {
		return switch (text) {
			case "+Inf" -> Double.POSITIVE_INFINITY;
			case "-Inf" -> Double.NEGATIVE_INFINITY;
			default -> Double.parseDouble(text);
		};
	}

	private static String seconds(Instant instant) {
		return String.valueOf(instant.toEpochMilli() / 1000.0);
	}

	/** Prometheus' own view of its alerts ({@code /api/v1/alerts}): pending and firing ones. */
	List<Alert> alerts() throws IOException, InterruptedException {
		List<Map<String, Object>> alerts = api("/api/v1/alerts").read("$.data.alerts");
		List<Alert> result = new ArrayList<>();
		for (Map<String, Object> alert : alerts) {
			@SuppressWarnings("unchecked")
			Map<String, String> labels = (Map<String, String>) alert.get("labels");
			@SuppressWarnings("unchecked")
			Map<String, String> annotations = (Map<String, String>) alert.get("annotations");
			result.add(new Alert(new LinkedHashMap<>(labels), new LinkedHashMap<>(annotations),
					String.valueOf(alert.get("state"))));
		}
		return result;
	}

	/** Each scrape target's health ({@code up}, {@code down}, {@code unknown}) by its address. */
	Map<String, String> targets() throws IOException, InterruptedException {
		List<Map<String, Object>> active = api("/api/v1/targets?state=active").read("$.data.activeTargets");
		Map<String, String> targets = new LinkedHashMap<>();
		for (Map<String, Object> target : active) {
			@SuppressWarnings("unchecked")
			Map<String, String> labels = (Map<String, String>) target.get("labels");
			targets.put(labels.get("job") + "/" + labels.get("instance"), String.valueOf(target.get("health")));
		}
		return targets;
	}

	private DocumentContext api(String pathAndQuery) throws IOException, InterruptedException {
		HttpResponse<String> response = get(pathAndQuery);
		if (response.statusCode() != 200) {
			throw new IOException("GET " + pathAndQuery + " answered " + response.statusCode() + ": " + response.body());
		}
		DocumentContext json = JsonPath.parse(response.body());
		if (!"success".equals(json.read("$.status"))) {
			throw new IOException("GET " + pathAndQuery + ": " + response.body());
		}
		return json;
	}

	private HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + pathAndQuery))
			.timeout(Duration.ofSeconds(10))
			.build();
		return http.send(request, HttpResponse.BodyHandlers.ofString());
	}

	/** What Prometheus logged, for failure messages. */
	String output() {
		try {
			return Files.readString(this.log);
		}
		catch (IOException ex) {
			return "(no output: " + ex + ")";
		}
	}

	@Override
	public void close() {
		try {
			ExternalProcess.stopAndDelete(this.process, 10, this.directory);
		}
		finally {
			try {
				Runtime.getRuntime().removeShutdownHook(this.killOnExit);
			}
			catch (IllegalStateException ex) {
				// the JVM is shutting down: the hook runs anyway
			}
		}
	}

	private void awaitReady() throws IOException, InterruptedException {
		long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
		while (System.nanoTime() < deadline) {
			if (!this.process.isAlive()) {
				throw new IOException("exited with status " + this.process.exitValue());
			}
			try {
				if (get("/-/ready").statusCode() == 200) {
					return;
				}
			}
			catch (IOException ex) {
				// not listening yet
			}
			Thread.sleep(100);
		}
		throw new IOException("not ready within " + START_TIMEOUT.toSeconds() + "s");
	}

	/** One series of a query result. */
	record Series(Map<String, String> labels, double value) {

	}

	/** One series of a range query result; {@code NaN} where the expression had no defined value. */
	record RangeSeries(Map<String, String> labels, List<Double> values) {

	}

	/** One alert as Prometheus reports it: labels, annotations, {@code pending} or {@code firing}. */
	record Alert(Map<String, String> labels, Map<String, String> annotations, String state) {

		String name() {
			return this.labels.get("alertname");
		}

	}

	/** Scrape jobs and rule files of one Prometheus. */
	static final class Config {

		private final Map<String, List<String>> jobs = new LinkedHashMap<>();

		private final Map<String, String> ruleFiles = new LinkedHashMap<>();

		private Config() {
		}

		/** A job scraping {@code /actuator/prometheus} on these loopback ports, each an instance. */
		Config actuatorJob(String name, int... httpPorts) {
			List<String> targets = new ArrayList<>();
			for (int httpPort : httpPorts) {
				targets.add("127.0.0.1:" + httpPort);
			}
			this.jobs.put(name, targets);
			return this;
		}

		/** A rule file, written next to the configuration under {@code fileName}. */
		Config ruleFile(String fileName, String content) {
			this.ruleFiles.put(fileName, content);
			return this;
		}

		String render(Path directory) {
			StringBuilder yaml = new StringBuilder();
			yaml.append("global:\n");
			yaml.append("  scrape_interval: 1s\n");
			yaml.append("  scrape_timeout: 1s\n");
			yaml.append("  evaluation_interval: 1s\n");
			yaml.append("rule_files:\n");
			for (String file : this.ruleFiles.keySet()) {
				yaml.append("  - '").append(directory.resolve(file)).append("'\n");
			}
			yaml.append("scrape_configs:\n");
			this.jobs.forEach((job, targets) -> {
				yaml.append("  - job_name: '").append(job).append("'\n");
				yaml.append("    metrics_path: /actuator/prometheus\n");
				yaml.append("    static_configs:\n");
				yaml.append("      - targets: [");
				yaml.append(String.join(", ", targets.stream().map((target) -> "'" + target + "'").toList()));
				yaml.append("]\n");
			});
			return yaml.toString();
		}

		/** Starts Prometheus on a free loopback port and waits until it is ready. */
		PrometheusServer start() throws IOException, InterruptedException {
			IOException failure = null;
			// a free port can be taken by someone else before Prometheus binds it: try again then
			for (int attempt = 0; attempt < 3; attempt++) {
				try {
					return start(FreePorts.take());
				}
				catch (IOException ex) {
					failure = ex;
				}
			}
			throw failure;
		}

		private PrometheusServer start(int port) throws IOException, InterruptedException {
			Path directory = Files.createTempDirectory("prometheus-");
			Path file = directory.resolve("prometheus.yml");
			Path log = directory.resolve("prometheus.log");
			for (Map.Entry<String, String> rules : this.ruleFiles.entrySet()) {
				Files.writeString(directory.resolve(rules.getKey()), rules.getValue(), StandardCharsets.UTF_8);
			}
			Files.writeString(file, render(directory), StandardCharsets.UTF_8);
			Process process;
			try {
				process = new ProcessBuilder("prometheus", "--config.file=" + file,
						"--storage.tsdb.path=" + directory.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
						"--log.level=warn")
					.redirectErrorStream(true)
					.redirectOutput(log.toFile())
					.start();
			}
			catch (IOException ex) {
				ExternalProcess.deleteQuietly(directory);
				throw ex;
			}
			PrometheusServer server = new PrometheusServer(process, directory, log, port);
			try {
				server.awaitReady();
				return server;
			}
			catch (IOException | InterruptedException | RuntimeException ex) {
				String output = server.output();
				server.close();
				throw new IOException("Prometheus did not start: " + ex.getMessage() + "\n" + output, ex);
			}
		}

	}

}
