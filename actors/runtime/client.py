"""The one door to Ray: every `.remote()` of the project is made here, and callers see typed
methods, not actor handles (Ray Serve keeps its own Ray calls behind one small API likewise).

The methods are async, for the Serve replica's event loop; a command, the dashboard or a test
calls them through `blocking`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

import ray
from ray.exceptions import RayError, RayTaskError

from actors.domain.registry import Resolved
from actors.runtime.directory import Directory
from actors.runtime.shard import BUSY as BUSY  # re-exported: the ingest reads answers
from actors.runtime.shard import MOVED as MOVED
from actors.runtime.shard import ClassroomMoved, Shard
from cellmon.settings import Settings
from cellmon.views import ClassroomSnapshot, StudentDetail

T = TypeVar("T")
DIRECTORY_NAME = "cellmon-directory"
# A classroom being moved answers "moved"; the directory's `locate` then waits for the move and
# names the new shard, so the first retry is at once. The others (after these waits) are for
# a shard that found itself moved without the directory moving it now; then "retry later".
MOVE_WAITS_S = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)

# Async actors: thousands of concurrent calls interleave only at awaits, never inside an update.
_COMMON = {
    "lifetime": "detached",
    "get_if_exists": True,
    "num_cpus": 0,
    "max_restarts": -1,
    "max_task_retries": -1,
    "max_concurrency": 1000,
}

RemoteShard = ray.remote(Shard)
RemoteDirectory = ray.remote(Directory)


class UnknownClassroom(LookupError):
    """The directory has no classroom with this id."""


class ActorsUnavailable(RuntimeError):
    """An actor is restarting or unreachable: nothing was lost, the caller may retry."""


def shard_name(index: int) -> str:
    """The shard's actor name, so any process in the namespace can find it."""
    return f"cellmon-shard-{index}"


def start_shard(index: int, settings: Settings) -> Any:
    """Create (or find) shard `index`; Ray restarts it after a crash and it reloads itself.

    It asks Ray for what a shard needs (`shard_num_cpus`, `shard_memory_mb`): where shards
    would outgrow the cluster, the new one waits, and Ray's autoscaler adds a node for it."""
    options = {
        "name": shard_name(index),
        "namespace": settings.namespace,
        **_COMMON,
        "num_cpus": settings.shard_num_cpus,
        "memory": settings.shard_memory_mb * 2**20,
        # Over the nodes there are: a machine lost takes only its share of the classrooms.
        "scheduling_strategy": "SPREAD",
    }
    return RemoteShard.options(**options).remote(index, settings)


def stop_shard(handle: Any) -> None:
    """Stop a shard the directory emptied, for good (Ray must not restart it)."""
    ray.kill(handle, no_restart=True)


def blocking(call: Coroutine[Any, Any, T], timeout_s: float = 30.0) -> T:
    """Run one client call from synchronous code (a command, a dashboard script, a test)."""

    async def bounded() -> T:
        return await asyncio.wait_for(call, timeout_s)

    return asyncio.run(bounded())


class ActorClient:
    """Typed calls to one deployment's directory and shards; shard handles are cached per
    classroom, so a call costs one actor round trip."""

    def __init__(self, namespace: str, starting: Settings | None = None) -> None:
        """`starting`: start the directory with these settings if there is none yet (the
        ingest does, so a Serve app deployed alone, by KubeRay say, brings its actors up)."""
        self.namespace = namespace
        self._starting = starting
        self._directory: Any = None
        self._shards: dict[str, Any] = {}

    @classmethod
    async def deploy(cls, settings: Settings) -> ActorClient:
        """Start (or find) the directory, which starts the minimum number of shards; returns
        once they answer."""
        client = cls(settings.namespace, starting=settings)
        await client.classrooms()
        return client

    async def create_classroom(
        self, name: str, classroom_id: str | None = None, require_student_tokens: bool = False
    ) -> dict[str, Any]:
        """A new classroom with its tokens (shown once); ValueError if the id is taken."""
        directory = self._directory_handle()
        created: dict[str, Any] = await self._call(
            directory.create_classroom.remote(name, classroom_id, require_student_tokens)
        )
        return created

    async def rotate_tokens(self, classroom_id: str) -> dict[str, str]:
        """New ingest and instructor tokens; the old ones stop working."""
        tokens: dict[str, str] = await self._call(
            self._directory_handle().rotate_tokens.remote(classroom_id)
        )
        return tokens

    async def resolve(self, token_digest: str) -> Resolved | None:
        """What a token digest grants (with its classroom's token rule), or None."""
        found: Resolved | None = await self._call(
            self._directory_handle().resolve.remote(token_digest)
        )
        return found

    async def student_token(
        self, classroom_id: str, student_id: str, replace_only: bool = False
    ) -> str:
        """A new token bound to one student (shown once); their earlier one stops working.
        With `replace_only`, LookupError unless they already hold one (a rotation)."""
        directory = self._directory_handle()
        token: str = await self._call(
            directory.student_token.remote(classroom_id, student_id, replace_only)
        )
        return token

    async def revoke_student_token(self, classroom_id: str, student_id: str) -> bool:
        """Revoke the student's own token; False if they had none."""
        revoked: bool = await self._call(
            self._directory_handle().revoke_student_token.remote(classroom_id, student_id)
        )
        return revoked

    async def require_student_tokens(self, classroom_id: str, required: bool) -> None:
        """Turn "students must use their own token" on or off."""
        directory = self._directory_handle()
        await self._call(directory.require_student_tokens.remote(classroom_id, required))

    async def enroll(
        self, classroom_id: str, student_id: str, name: str | None, team: str | None
    ) -> str:
        """Put a student on the roster (the name and team the class sees) and issue their own
        token, shown once; an earlier token of theirs stops working."""
        token = await self.student_token(classroom_id, student_id)
        answer = await self.update_roster(classroom_id, student_id, True, name, team)
        if "error" in answer:
            raise ActorsUnavailable(f"the roster cannot be logged: {answer.get('detail')}")
        return token

    async def unenroll(self, classroom_id: str, student_id: str) -> None:
        """Revoke the student's own token and take them off the roster; their history stays."""
        await self.revoke_student_token(classroom_id, student_id)
        answer = await self.update_roster(classroom_id, student_id, False)
        if "error" in answer:
            raise ActorsUnavailable(f"the roster cannot be logged: {answer.get('detail')}")

    async def forget_student(
        self, classroom_id: str, student_id: str, requested_by: str
    ) -> dict[str, Any]:
        """Remove a student's data from every store (`Shard.forget`), their own token first so
        that nothing more arrives with it. How many events and points went."""
        revoked = await self.revoke_student_token(classroom_id, student_id)
        answer: dict[str, Any] = await self._on_shard(
            classroom_id,
            lambda shard: shard.forget.remote(classroom_id, student_id, requested_by),
        )
        return {**answer, "token_revoked": revoked}

    async def set_retention(self, classroom_id: str, days: int | None) -> None:
        """Keep the classroom's events `days` days (None: for good); the directory purges
        older ones every `retention_interval_s`."""
        await self._call(self._directory_handle().set_retention.remote(classroom_id, days))

    async def retention_pass(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Purge now, as of `now` (the clock if None): what each classroom lost."""
        done: list[dict[str, Any]] = await self._call(
            self._directory_handle().retention_pass.remote(now)
        )
        return done

    async def update_roster(
        self,
        classroom_id: str,
        student_id: str,
        enrolled: bool,
        name: str | None = None,
        team: str | None = None,
    ) -> dict[str, Any]:
        """Enroll a student with the name and team the class sees, or take them off (logged)."""
        answer: dict[str, Any] = await self._on_shard(
            classroom_id,
            lambda shard: shard.update_roster.remote(
                classroom_id, student_id, enrolled, name, team
            ),
        )
        return answer

    async def classrooms(self) -> list[dict[str, Any]]:
        """Every classroom with its name and shard."""
        rooms: list[dict[str, Any]] = await self._call(self._directory_handle().classrooms.remote())
        return rooms

    async def ingest_batches(
        self, classroom_id: str, batches: list[list[Any]]
    ) -> list[dict[str, Any]]:
        """Log, then apply, several requests' batches in one call; one answer per batch.

        Batches a moving classroom's old shard refused (nothing logged) go again to its new
        one; any still refused after MOVE_WAITS_S answer {"error": "moved"}: retry later."""
        answers: list[dict[str, Any]] = [{"error": MOVED}] * len(batches)
        waiting = list(range(len(batches)))
        for wait_s in (0.0, *MOVE_WAITS_S):
            await asyncio.sleep(wait_s)
            sent = [batches[i] for i in waiting]

            def send(shard: Any, sent: list[list[Any]] = sent) -> Any:
                return shard.ingest_batches.remote(classroom_id, sent)

            got = await self._forgetting(classroom_id, send, await self._shard(classroom_id))
            for i, answer in zip(waiting, got, strict=True):
                answers[i] = answer
            waiting = [i for i in waiting if _moved(answers[i])]
            if not waiting:
                break
            self._shards.pop(classroom_id, None)
        return answers

    async def snapshot(self, classroom_id: str, activity_minutes: int = 60) -> ClassroomSnapshot:
        """The classroom's live aggregate."""
        snap: ClassroomSnapshot = await self._on_shard(
            classroom_id, lambda shard: shard.snapshot.remote(classroom_id, activity_minutes)
        )
        return snap

    async def student(self, classroom_id: str, student_id: str) -> StudentDetail | None:
        """One student's detail, or None if the class never heard of them."""
        detail: StudentDetail | None = await self._on_shard(
            classroom_id, lambda shard: shard.student.remote(classroom_id, student_id)
        )
        return detail

    async def help_action(
        self, classroom_id: str, student_id: str, action: str, instructor: str
    ) -> dict[str, Any]:
        """An instructor claims ("claim") or resolves ("resolve") a help request (logged)."""
        answer: dict[str, Any] = await self._on_shard(
            classroom_id,
            lambda shard: shard.help_action.remote(classroom_id, student_id, action, instructor),
        )
        return answer

    async def resolve_errors(
        self, classroom_id: str, student_id: str, instructor: str
    ) -> dict[str, Any]:
        """An instructor clears a student's "stuck" flag (logged)."""
        answer: dict[str, Any] = await self._on_shard(
            classroom_id,
            lambda shard: shard.resolve_errors.remote(classroom_id, student_id, instructor),
        )
        return answer

    async def message(
        self, classroom_id: str, instructor: str, text: str, student_id: str | None = None
    ) -> dict[str, Any]:
        """An instructor's message to one student, or to the whole class (logged); it reaches
        their JupyterLab with the answer to its next send."""
        answer: dict[str, Any] = await self._on_shard(
            classroom_id,
            lambda shard: shard.message.remote(classroom_id, instructor, text, student_id),
        )
        return answer

    async def configure(self, classroom_id: str, significant_errors: int) -> dict[str, Any]:
        """Change the classroom's consecutive-error threshold (logged)."""
        answer: dict[str, Any] = await self._on_shard(
            classroom_id, lambda shard: shard.configure.remote(classroom_id, significant_errors)
        )
        return answer

    async def set_consent_policy(self, classroom_id: str, required: bool) -> dict[str, Any]:
        """Ask the classroom's students for research consent, or stop asking (logged)."""
        answer: dict[str, Any] = await self._on_shard(
            classroom_id, lambda shard: shard.set_consent_policy.remote(classroom_id, required)
        )
        return answer

    async def checkpoint(self, classroom_id: str) -> int:
        """Checkpoint every changed classroom of this classroom's shard now; returns how many."""
        shard = await self._shard(classroom_id)
        saved: int = await self._call(shard.checkpoint_now.remote())
        return saved

    async def shard_stats(self, classroom_id: str) -> dict[str, Any]:
        """What the classroom's shard holds (its pid, load and log positions)."""
        shard = await self._shard(classroom_id)
        stats: dict[str, Any] = await self._call(shard.stats.remote())
        return stats

    async def all_shard_stats(self, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        """Every running shard's stats, asked in parallel; a shard that does not answer (it
        was stopped a moment ago, or is restarting) is listed as unavailable, with why."""
        shards = await self._call(self._directory_handle().running_shards.remote())

        async def stats(index: int, shard: Any) -> dict[str, Any]:
            try:
                found: dict[str, Any] = await self._call(
                    asyncio.wait_for(shard.stats.remote(), timeout_s)
                )
                return found
            except (ActorsUnavailable, TimeoutError) as error:
                return {"shard": index, "unavailable": str(error) or "no answer in time"}

        return list(await asyncio.gather(*(stats(i, s) for i, s in sorted(shards.items()))))

    async def move(self, classroom_id: str, to_shard: int | None = None) -> dict[str, Any]:
        """Move a live classroom to another shard (or where placement puts it): what moved,
        from where to where, and how long its callers were told to wait."""
        moved: dict[str, Any] = await self._call(
            self._directory_handle().move.remote(classroom_id, to_shard)
        )
        return moved

    async def _on_shard(self, classroom_id: str, call: Callable[[Any], Any]) -> Any:
        """One call to the classroom's shard; if the classroom moved, to its new shard."""
        for wait_s in (0.0, *MOVE_WAITS_S):
            await asyncio.sleep(wait_s)
            try:
                answer = await self._forgetting(classroom_id, call, await self._shard(classroom_id))
            except ClassroomMoved:
                answer = {"error": MOVED}
            if not _moved(answer):
                return answer
            self._shards.pop(classroom_id, None)
        raise ActorsUnavailable(f"classroom {classroom_id!r} is moving to another shard")

    async def _forgetting(self, classroom_id: str, call: Callable[[Any], Any], shard: Any) -> Any:
        """A call to the classroom's shard. If that shard is gone (stopped after the classroom
        moved off it while this client was quiet, or crashed), the directory is asked again:
        a different shard gets the call once more (a re-sent batch is logged once: the log
        skips ids it holds); the same one means it is restarting, and the caller retries."""
        try:
            return await self._call(call(shard))
        except ActorsUnavailable:
            self._shards.pop(classroom_id, None)
            current = await self._shard(classroom_id)
            if _actor_id(current) == _actor_id(shard):
                raise
            return await self._call(call(current))

    async def drain(self, shard: int) -> list[dict[str, Any]]:
        """Move every classroom off a shard, then stop it (down to `shards_min`)."""
        done: list[dict[str, Any]] = await self._call(self._directory_handle().drain.remote(shard))
        return done

    async def rebalance(self) -> list[dict[str, Any]]:
        """One rebalancing pass now (the directory also runs one every few seconds)."""
        done: list[dict[str, Any]] = await self._call(
            self._directory_handle().rebalance_once.remote()
        )
        return done

    async def _shard(self, classroom_id: str) -> Any:
        shard = self._shards.get(classroom_id)
        if shard is None:
            shard = await self._call(self._directory_handle().locate.remote(classroom_id))
            if shard is None:
                raise UnknownClassroom(f"no classroom {classroom_id!r}")
            self._shards[classroom_id] = shard
        return shard

    def _directory_handle(self) -> Any:
        if self._directory is None and self._starting is not None:
            options = {"name": DIRECTORY_NAME, "namespace": self.namespace, **_COMMON}
            remote = RemoteDirectory.options(**options)  # get_if_exists: one per namespace
            self._directory = remote.remote(self._starting, start_shard, stop_shard)
        if self._directory is None:
            try:
                self._directory = ray.get_actor(DIRECTORY_NAME, namespace=self.namespace)
            except ValueError:
                raise ActorsUnavailable(
                    f"Cell Monitor is not deployed in Ray namespace {self.namespace!r}"
                ) from None
        return self._directory

    @staticmethod
    async def _call(awaitable: Any) -> Any:
        """Await an actor call. A refusal the actor raised on purpose (ValueError, LookupError)
        comes back as itself; a dead or restarting actor, or a bug in one, becomes
        `ActorsUnavailable`, which callers answer with "retry" (nothing was acknowledged)."""
        try:
            return await awaitable
        except RayTaskError as error:
            if isinstance(error.cause, ValueError | LookupError | ClassroomMoved):
                raise error.cause from None
            raise ActorsUnavailable(str(error.cause)) from error
        except RayError as error:
            raise ActorsUnavailable(str(error)) from error


def _moved(answer: Any) -> bool:
    """A shard's answer that the classroom is no longer there (nothing was done)."""
    return isinstance(answer, dict) and answer.get("error") == MOVED


def _actor_id(handle: Any) -> Any:
    """What identifies an actor behind a handle (the handle itself outside Ray)."""
    return getattr(handle, "_actor_id", handle)
