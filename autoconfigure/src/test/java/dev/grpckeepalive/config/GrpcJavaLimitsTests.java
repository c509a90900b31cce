package dev.grpckeepalive.config;

import java.time.Duration;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The adjustments grpc-java 1.84 makes, as predicted for the endpoint and the warnings. */
class GrpcJavaLimitsTests {

	@ParameterizedTest
	@CsvSource(nullValues = "off", value = { "1ms, 10s", "9999ms, 10s", "10s, 10s", "2h, 2h", "999d, 999d",
			"1000d, off", "100000d, off" })
	void keepAliveTime(String requested, String effective) {
		assertThat(GrpcJavaLimits.keepAliveTime("p", parse(requested)).effective()).isEqualTo(parse(effective));
	}

	@ParameterizedTest
	@CsvSource({ "1ms, 10ms", "10ms, 10ms", "20s, 20s" })
	void keepAliveTimeout(String requested, String effective) {
		assertThat(GrpcJavaLimits.keepAliveTimeout("p", parse(requested)).effective()).isEqualTo(parse(effective));
	}

	@ParameterizedTest
	@CsvSource(nullValues = "off", value = { "1ms, 1s", "999ms, 1s", "1s, 1s", "30m, 30m", "1000d, off" })
	void maxConnectionIdleOrAge(String requested, String effective) {
		assertThat(GrpcJavaLimits.maxConnectionIdleOrAge("p", parse(requested)).effective())
			.isEqualTo(parse(effective));
	}

	@ParameterizedTest
	@CsvSource(nullValues = "off", value = { "0s, 0s", "30s, 30s", "1000d, off" })
	void maxConnectionAgeGrace(String requested, String effective) {
		assertThat(GrpcJavaLimits.maxConnectionAgeGrace("p", parse(requested)).effective())
			.isEqualTo(parse(effective));
	}

	@ParameterizedTest
	@CsvSource({ "0s, 0s", "5m, 5m", "2h, 2h", "3h, 2h" })
	void permitTime(String requested, String effective) {
		assertThat(GrpcJavaLimits.permitTime("p", parse(requested)).effective()).isEqualTo(parse(effective));
	}

	private static Duration parse(String value) {
		if (value == null) {
			return null;
		}
		return org.springframework.boot.convert.DurationStyle.detectAndParse(value);
	}

}
