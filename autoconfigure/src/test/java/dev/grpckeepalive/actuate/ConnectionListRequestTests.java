package dev.grpckeepalive.actuate;

import java.time.Duration;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.grpckeepalive.actuate.ConnectionListRequest.BadParameter;
import dev.grpckeepalive.connection.ConnectionQuery;
import dev.grpckeepalive.connection.ConnectionState;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/** The list's query parameters as the endpoint receives them: defaults, bounds and what each takes. */
class ConnectionListRequestTests {

	@Test
	void withoutParametersAPageIsTheFirst100() {
		ConnectionQuery query = query(null, null, null, null, null, null, null);

		assertThat(query).isEqualTo(ConnectionQuery.first(100));
	}

	@Test
	void everyParameterIsTakenAsDocumented() {
		ConnectionQuery query = ConnectionListRequest.query("1000", "s-42", "idle, DRAINING", "/10.1.", "grpc-go",
				"90s", "1500", true);

		assertThat(query).isEqualTo(new ConnectionQuery(42, 1000, Set.of(ConnectionState.IDLE, ConnectionState.DRAINING),
				"10.1.", "grpc-go", Duration.ofSeconds(90), Duration.ofMillis(1500)));
		assertThat(query(null, null, null, null, null, "PT1H", "0").minAge()).isEqualTo(Duration.ofHours(1));
	}

	@Test
	void aLimitOutsideOneTo1000IsRefused() {
		assertBad("limit", () -> query("0", null, null, null, null, null, null), "limit must be a whole number from 1 to 1000, was 0");
		assertBad("limit", () -> query("1001", null, null, null, null, null, null), "was 1001");
		assertBad("limit", () -> query("1,2", null, null, null, null, null, null), "was '1,2'");
	}

	@Test
	void theCursorIsAServerConnectionId() {
		assertBad("after", () -> query(null, "42", null, null, null, null, null), "such as s-42");
		assertBad("after", () -> query(null, "c-prices-1", null, null, null, null, null), "was 'c-prices-1'");
		assertBad("after", () -> query(null, "s-0", null, null, null, null, null), "was 's-0'");
		assertBad("after", () -> query(null, "s-" + "9".repeat(100), null, null, null, null, null), "...'");
	}

	@Test
	void aClosedConnectionIsNeverInTheList() {
		assertBad("state", () -> query(null, null, "closed", null, null, null, null), "active, idle or draining");
		assertBad("state", () -> query(null, null, "idle,", null, null, null, null), "was 'idle,'");
	}

	@Test
	void durationsTakeSpringsFormsAndAreNotNegative() {
		assertBad("minAge", () -> query(null, null, null, null, null, "-5s", null), "must not be negative");
		assertBad("minIdle", () -> query(null, null, null, null, null, null, "soon"), "such as 500ms, 30s");
	}

	@Test
	void theRemoteFilterNeedsPeersShown() {
		assertBad("remote", () -> ConnectionListRequest.query(null, null, null, "10.", null, null, null, false),
				"peer addresses are masked");
		assertThat(ConnectionListRequest.query(null, null, null, null, "grpc-java", null, null, false).userAgent())
			.as("the user-agent filter does not need them").isEqualTo("grpc-java");
	}

	@Test
	void emptyTextFiltersAreRefused() {
		assertBad("remote", () -> query(null, null, null, " ", null, null, null), "remote must not be empty");
		assertBad("userAgent", () -> query(null, null, null, null, "", null, null), "userAgent must not be empty");
	}

	private static ConnectionQuery query(String limit, String after, String state, String remote, String userAgent,
			String minAge, String minIdle) {
		return ConnectionListRequest.query(limit, after, state, remote, userAgent, minAge, minIdle, true);
	}

	private static void assertBad(String parameter, Runnable request, String message) {
		assertThatExceptionOfType(BadParameter.class).isThrownBy(request::run)
			.satisfies((ex) -> assertThat(ex.parameter()).isEqualTo(parameter))
			.satisfies((ex) -> assertThat(ex.getStackTrace()).isEmpty())
			.withMessageStartingWith(parameter + " ")
			.withMessageContaining(message);
	}

}
