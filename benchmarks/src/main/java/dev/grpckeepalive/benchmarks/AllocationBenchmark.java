package dev.grpckeepalive.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.google.protobuf.ByteString;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import dev.grpckeepalive.benchmarks.proto.BenchServiceGrpc;
import dev.grpckeepalive.benchmarks.proto.Payload;

/**
 * Bytes allocated per unary call, client and server together in one JVM, for each
 * {@link Variant}, all on the same event-loop configuration ({@link EventLoops}). JMH's GC
 * profiler reports {@code gc.alloc.rate.norm}. {@link #runAndReport} runs one fork per
 * variant and round, in the load harness's alternating order, so that drift on a shared
 * machine falls on both variants of a compared pair alike.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
public class AllocationBenchmark {

	private static final Payload SMALL = Payload.newBuilder().setData(ByteString.copyFromUtf8("0123456789abcdef")).build();

	@Param({ "PLAIN", "STARTER", "SPRING_BOOT_GRPC", "COMPANION", "STARTER_NO_FRAMES" })
	public Variant variant;

	private Deployment deployment;

	private BenchServiceGrpc.BenchServiceBlockingStub stub;

	@Setup
	public void start() {
		this.deployment = Deployment.start(this.variant);
		this.stub = BenchServiceGrpc.newBlockingStub(this.deployment.channel());
	}

	@TearDown
	public void stop() {
		this.deployment.close();
	}

	@Benchmark
	public Payload unaryCall() {
		return this.stub.echo(SMALL);
	}

	/** One fork's figures. */
	private record Sample(double bytes, double micros) {
	}

	static String runAndReport(List<Variant> variants, int rounds) throws Exception {
		List<Variant> order = LoadHarness.ROUND_ORDER.stream().filter(variants::contains).toList();
		Map<Variant, List<Sample>> samples = new EnumMap<>(Variant.class);
		for (int round = 0; round < rounds; round++) {
			List<Variant> inRound = new ArrayList<>(order);
			if (round % 2 == 1) {
				Collections.reverse(inRound);
			}
			for (Variant variant : inRound) {
				RunResult result = new Runner(new OptionsBuilder().include(AllocationBenchmark.class.getName())
					.param("variant", variant.name())
					.addProfiler(GCProfiler.class)
					.build()).runSingle();
				Sample sample = new Sample(result.getSecondaryResults().get("gc.alloc.rate.norm").getScore(),
						result.getPrimaryResult().getScore());
				samples.computeIfAbsent(variant, (key) -> new ArrayList<>()).add(sample);
				System.out.printf(Locale.ROOT, "alloc round %d %-32s %8.0f bytes/call %8.1f us/call%n", round + 1,
						variant.label(), sample.bytes(), sample.micros());
			}
		}
		StringBuilder table = new StringBuilder("### Allocation per unary call (JMH, gc profiler)\n\n");
		table.append(rounds).append(" rounds of one fork per variant (3 x 3 s warm-up, 5 x 3 s measured), one thread, ")
			.append("client and server in one JVM. Median of the rounds (min to max); in brackets the ratio of the medians ")
			.append("to the variant's baseline, (a) or (c).\n\n");
		table.append("| variant | bytes/call | µs/call |\n|---|---|---|\n");
		samples.forEach((variant, rows) -> {
			List<Sample> base = samples.getOrDefault(variant.baseline(), List.of());
			double[] bytes = rows.stream().mapToDouble(Sample::bytes).toArray();
			double[] micros = rows.stream().mapToDouble(Sample::micros).toArray();
			table.append(String.format(Locale.ROOT, "| %s | %.0f (%.0f to %.0f)", variant.label(), LoadHarness.median(bytes),
					Arrays.stream(bytes).min().orElse(0), Arrays.stream(bytes).max().orElse(0)));
			if (!base.isEmpty()) {
				table.append(String.format(Locale.ROOT, " [%.3f]",
						LoadHarness.median(bytes) / LoadHarness.median(base.stream().mapToDouble(Sample::bytes).toArray())));
			}
			table.append(String.format(Locale.ROOT, " | %.1f (%.1f to %.1f) |%n", LoadHarness.median(micros),
					Arrays.stream(micros).min().orElse(0), Arrays.stream(micros).max().orElse(0)));
		});
		table.append("\nBytes per call, ratios round by round: median (min to max), and the difference of the medians.\n\n");
		table.append("| ratio | bytes/call | difference, bytes/call |\n|---|---|---|\n");
		for (Variant[] pair : BenchmarkMain.PAIRS) {
			List<Sample> numerator = samples.get(pair[0]);
			List<Sample> denominator = samples.get(pair[1]);
			if (numerator == null || denominator == null) {
				continue;
			}
			double[] ratios = new double[numerator.size()];
			for (int round = 0; round < ratios.length; round++) {
				ratios[round] = numerator.get(round).bytes() / denominator.get(round).bytes();
			}
			table.append(String.format(Locale.ROOT, "| (%s) / (%s) | %.3f (%.3f to %.3f) | %+.0f |%n", pair[0].letter(),
					pair[1].letter(), LoadHarness.median(ratios), Arrays.stream(ratios).min().orElse(0),
					Arrays.stream(ratios).max().orElse(0),
					LoadHarness.median(numerator.stream().mapToDouble(Sample::bytes).toArray())
							- LoadHarness.median(denominator.stream().mapToDouble(Sample::bytes).toArray())));
		}
		return table.append('\n').toString();
	}

}
