package dev.grpckeepalive.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Runs the benchmarks and prints Markdown tables (also written under {@code target/}).
 *
 * <pre>
 * ./mvnw -B -q install -DskipTests &amp;&amp; ./mvnw -B -q -pl benchmarks exec:exec -Dbench.args=all
 * </pre>
 * Arguments: {@code load} (throughput, latency, streaming, churn for (a) to (d)),
 * {@code alloc} (JMH allocation per RPC, (a) and (b)), {@code scale} (1k, 5k, 10k idle
 * connections), {@code detect} (dead-peer detection time), or {@code all}.
 */
public final class BenchmarkMain {

	private BenchmarkMain() {
	}

	public static void main(String[] args) throws Exception {
		String mode = (args.length > 0) ? args[0] : "all";
		StringBuilder report = new StringBuilder();
		report.append("JDK ").append(System.getProperty("java.version")).append(", ")
			.append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
			.append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch")).append("\n\n");
		if (mode.equals("load") || mode.equals("all")) {
			report.append(load(new LoadHarness(3, Duration.ofSeconds(5), Duration.ofSeconds(10)).run()));
		}
		if (mode.equals("alloc") || mode.equals("all")) {
			report.append(AllocationBenchmark.runAndReport());
		}
		if (mode.equals("scale") || mode.equals("all")) {
			report.append(ScaleBenchmark.runAndReport(List.of(1_000, 5_000, 10_000)));
		}
		if (mode.equals("detect") || mode.equals("all")) {
			report.append(DetectionBenchmark.runAndReport());
		}
		System.out.println();
		System.out.println(report);
		write(mode, report.toString());
		System.exit(0);
	}

	private static String load(Map<Variant, List<LoadHarness.Sample>> samples) {
		StringBuilder table = new StringBuilder("### Load: unary (64 in flight), 1 KiB server stream, churn\n\n");
		table.append("Median of ").append(samples.get(Variant.PLAIN).size())
			.append(" rounds (min to max); ratios to (a) in brackets.\n\n");
		table.append("| variant | unary calls/s | p50 µs | p99 µs | stream msg/s | churn calls/s |\n");
		table.append("|---|---|---|---|---|---|\n");
		List<LoadHarness.Sample> plain = samples.get(Variant.PLAIN);
		for (Variant variant : Variant.values()) {
			List<LoadHarness.Sample> rows = samples.get(variant);
			table.append("| ").append(variant.label());
			cell(table, rows, plain, LoadHarness.Sample::unaryPerSecond);
			cell(table, rows, plain, LoadHarness.Sample::p50Micros);
			cell(table, rows, plain, LoadHarness.Sample::p99Micros);
			cell(table, rows, plain, LoadHarness.Sample::streamPerSecond);
			cell(table, rows, plain, LoadHarness.Sample::churnPerSecond);
			table.append(" |\n");
		}
		return table.append('\n').toString();
	}

	private static void cell(StringBuilder table, List<LoadHarness.Sample> rows, List<LoadHarness.Sample> plain,
			ToDoubleFunction<LoadHarness.Sample> metric) {
		double[] values = rows.stream().mapToDouble(metric).toArray();
		double median = LoadHarness.median(values);
		double base = LoadHarness.median(plain.stream().mapToDouble(metric).toArray());
		double min = java.util.Arrays.stream(values).min().orElse(0);
		double max = java.util.Arrays.stream(values).max().orElse(0);
		table.append(String.format(Locale.ROOT, " | %.0f (%.0f to %.0f) [%.3f]", median, min, max, median / base));
	}

	private static void write(String mode, String report) throws IOException {
		Path out = Path.of("target", "benchmark-" + mode + ".md");
		Files.createDirectories(out.getParent());
		Files.writeString(out, report);
		System.out.println("Written to " + out.toAbsolutePath());
	}

}
