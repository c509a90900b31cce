package dev.grpckeepalive.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
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
 * The first word is the mode: {@code load} (throughput, latency, streaming, churn),
 * {@code alloc} (JMH allocation per RPC), {@code scale} (1k, 10k and 100k idle connections,
 * (a) and (b)), {@code detect} (dead-peer detection time), or {@code all}. Then, optionally,
 * {@code rounds=N} (load: 5, alloc: 3), {@code variants=a,b,...} (load and alloc: all
 * five) and {@code sizes=N,...} (scale), as in {@code -Dbench.args="load rounds=3 variants=a,b"}
 * or {@code -Dbench.args="scale sizes=100000"}; for a quick check of the load harness,
 * {@code seconds=N} measures N s per workload (default 10) after N/2 s of warm-up.
 */
public final class BenchmarkMain {

	/** The ratios reported round by round: each variant against its baseline, and the frame observer alone. */
	static final List<Variant[]> PAIRS = List.of(new Variant[] { Variant.STARTER, Variant.PLAIN },
			new Variant[] { Variant.COMPANION, Variant.SPRING_BOOT_GRPC },
			new Variant[] { Variant.STARTER, Variant.STARTER_NO_FRAMES });

	private BenchmarkMain() {
	}

	public static void main(String[] args) throws Exception {
		List<String> words = Arrays.stream(String.join(" ", args).strip().split("\\s+"))
			.filter((word) -> !word.isEmpty())
			.toList();
		String mode = words.isEmpty() ? "all" : words.get(0);
		Integer rounds = null;
		Duration warmup = Duration.ofSeconds(5);
		Duration measure = Duration.ofSeconds(10);
		List<Variant> variants = List.of(Variant.values());
		List<Integer> sizes = List.of(1_000, 10_000, 100_000);
		for (String option : words.subList(Math.min(1, words.size()), words.size())) {
			if (option.startsWith("rounds=")) {
				rounds = Integer.valueOf(option.substring("rounds=".length()));
			}
			else if (option.startsWith("seconds=")) {
				// load only, for a quick check of the harness: measured seconds, warm-up half of it
				measure = Duration.ofSeconds(Long.parseLong(option.substring("seconds=".length())));
				warmup = measure.dividedBy(2);
			}
			else if (option.startsWith("sizes=")) {
				sizes = Arrays.stream(option.substring("sizes=".length()).split(",")).map(Integer::valueOf).toList();
			}
			else if (option.startsWith("variants=")) {
				variants = Arrays.stream(option.substring("variants=".length()).split(",")).map(Variant::of).toList();
			}
			else {
				throw new IllegalArgumentException("Unknown option '" + option + "'");
			}
		}
		StringBuilder report = new StringBuilder();
		report.append("JDK ").append(System.getProperty("java.version")).append(", ")
			.append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
			.append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
			.append(", ").append(EventLoops.isEpoll() ? "epoll" : "NIO").append(", event loops per server: 1 boss + ")
			.append(EventLoops.WORKER_THREADS).append(" workers, per client: ").append(EventLoops.WORKER_THREADS)
			.append(" workers\n\n");
		if (mode.equals("load") || mode.equals("all")) {
			LoadHarness harness = new LoadHarness(variants, (rounds != null) ? rounds : 5, warmup, measure);
			report.append(load(harness.run(), harness.threads()));
		}
		if (mode.equals("alloc") || mode.equals("all")) {
			report.append(AllocationBenchmark.runAndReport(variants, (rounds != null) ? rounds : 3));
		}
		if (mode.equals("scale") || mode.equals("all")) {
			report.append(ScaleBenchmark.runAndReport(sizes));
		}
		if (mode.equals("detect") || mode.equals("all")) {
			report.append(DetectionBenchmark.runAndReport());
		}
		System.out.println();
		System.out.println(report);
		write(mode, report.toString());
		System.exit(0);
	}

	private static String load(Map<Variant, List<LoadHarness.Sample>> samples,
			Map<Variant, Map<String, Integer>> threads) {
		int rounds = samples.values().iterator().next().size();
		StringBuilder table = new StringBuilder("### Load: unary (64 in flight), 1 KiB server stream, churn\n\n");
		table.append("Median of ").append(rounds)
			.append(" rounds (min to max); in brackets the ratio of the medians to the variant's baseline, (a) or (c).\n\n");
		table.append("| variant | unary calls/s | p50 µs | p99 µs | stream msg/s | churn calls/s |\n");
		table.append("|---|---|---|---|---|---|\n");
		for (Variant variant : samples.keySet()) {
			List<LoadHarness.Sample> rows = samples.get(variant);
			List<LoadHarness.Sample> base = samples.getOrDefault(variant.baseline(), List.of());
			table.append("| ").append(variant.label());
			for (ToDoubleFunction<LoadHarness.Sample> metric : metrics()) {
				cell(table, rows, base, metric);
			}
			table.append(" |\n");
		}
		table.append("\nRatios measured round by round (each pair runs back to back): median of ")
			.append(rounds)
			.append(" rounds (min to max).\n\n");
		table.append("| ratio | unary calls/s | p50 µs | p99 µs | stream msg/s | churn calls/s |\n");
		table.append("|---|---|---|---|---|---|\n");
		for (Variant[] pair : PAIRS) {
			List<LoadHarness.Sample> numerator = samples.get(pair[0]);
			List<LoadHarness.Sample> denominator = samples.get(pair[1]);
			if (numerator == null || denominator == null) {
				continue;
			}
			table.append("| (").append(pair[0].letter()).append(") / (").append(pair[1].letter()).append(')');
			for (ToDoubleFunction<LoadHarness.Sample> metric : metrics()) {
				double[] ratios = new double[numerator.size()];
				for (int round = 0; round < ratios.length; round++) {
					ratios[round] = metric.applyAsDouble(numerator.get(round))
							/ metric.applyAsDouble(denominator.get(round));
				}
				table.append(String.format(Locale.ROOT, " | %.3f (%.3f to %.3f)", LoadHarness.median(ratios),
						Arrays.stream(ratios).min().orElse(0), Arrays.stream(ratios).max().orElse(0)));
			}
			table.append(" |\n");
		}
		table.append("\nEvent-loop and gRPC threads alive during each variant's unary load in round 1, by name:\n\n");
		threads.forEach((variant, names) -> table.append("- ").append(variant.label()).append(": ").append(names).append('\n'));
		return table.append('\n').toString();
	}

	private static List<ToDoubleFunction<LoadHarness.Sample>> metrics() {
		List<ToDoubleFunction<LoadHarness.Sample>> metrics = new ArrayList<>();
		metrics.add(LoadHarness.Sample::unaryPerSecond);
		metrics.add(LoadHarness.Sample::p50Micros);
		metrics.add(LoadHarness.Sample::p99Micros);
		metrics.add(LoadHarness.Sample::streamPerSecond);
		metrics.add(LoadHarness.Sample::churnPerSecond);
		return metrics;
	}

	private static void cell(StringBuilder table, List<LoadHarness.Sample> rows, List<LoadHarness.Sample> base,
			ToDoubleFunction<LoadHarness.Sample> metric) {
		double[] values = rows.stream().mapToDouble(metric).toArray();
		double median = LoadHarness.median(values);
		double min = Arrays.stream(values).min().orElse(0);
		double max = Arrays.stream(values).max().orElse(0);
		table.append(String.format(Locale.ROOT, " | %.0f (%.0f to %.0f)", median, min, max));
		if (!base.isEmpty()) {
			table.append(String.format(Locale.ROOT, " [%.3f]",
					median / LoadHarness.median(base.stream().mapToDouble(metric).toArray())));
		}
	}

	private static void write(String mode, String report) throws IOException {
		Path out = Path.of("target", "benchmark-" + mode + ".md");
		Files.createDirectories(out.getParent());
		Files.writeString(out, report);
		System.out.println("Written to " + out.toAbsolutePath());
	}

}
