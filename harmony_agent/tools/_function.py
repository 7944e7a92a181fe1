"""Function tools: a typed Python function becomes a tool the model can call.

The JSON Schema comes from the type hints through a pydantic model built from the
signature (so arguments are validated by pydantic, never by hand); the description and
per-parameter docs come from the docstring (google, numpy or sphinx style).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Generic, ParamSpec, TypeVar, get_args, get_origin, overload

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError
from pydantic.fields import FieldInfo
from pydantic.json_schema import PydanticJsonSchemaWarning

from harmony_agent.errors import ToolError
from harmony_agent.format._messages import Message, ToolNamespace, ToolSpec
from harmony_agent.tools._base import Tool, ToolCall
from harmony_agent.tools._docstring import parse_docstring

__all__ = ["FunctionTool", "as_tool", "result_text", "tool"]

P = ParamSpec("P")
R = TypeVar("R")

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_ARGUMENTS_CONFIG = ConfigDict(extra="forbid", protected_namespaces=())


class FunctionTool(Tool, Generic[P, R]):
    """A Python function (sync or async) exposed to the model in a namespace (``functions``).

    Calling the tool object calls the function unchanged, so a decorated function stays
    usable from Python. Inside an agent run, :meth:`call` validates the model's JSON
    arguments against the signature and answers with the return value as text
    (see :func:`result_text`); invalid arguments raise :class:`~harmony_agent.ToolError`
    with a message that tells the model exactly what to fix.

    Args:
        fn: the function; every parameter needs a JSON-describable type (or none: Any).
        name: the name the model calls (default: the function's name).
        description: what the model reads (default: the docstring without its
            parameter sections).
        namespace: the namespace that holds the function (``functions``).
        timeout: seconds before a call is abandoned (None: the agent's ``tool_timeout``).
        run_in_thread: run a sync function in a worker thread so it cannot block other
            runs sharing the event loop (async functions always run on the loop).
    """

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        namespace: str = "functions",
        timeout: float | None = None,
        run_in_thread: bool = True,
    ) -> None:
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", ""))
        for label, value in (("name", self.name), ("namespace", namespace)):
            if not _NAME.match(value):
                raise ToolError(
                    f"tool {label} must be letters, digits, '_' or '-' and not start with a "
                    f"digit, got {value!r} (for {fn!r})"
                )
        doc = parse_docstring(inspect.getdoc(fn))
        self.arguments_model, self._params = _arguments_model(self.name, fn, doc.params)
        fields = self.arguments_model.model_fields
        self._param_list = ", ".join(
            f"{p} (required)" if fields[a].is_required() else p for p, a in self._params.items()
        )
        self.spec = ToolSpec(
            name=self.name,
            description=doc.text if description is None else description,
            parameters=_parameters_schema(self.arguments_model),
        )
        self._namespace = ToolNamespace(name=namespace, tools=(self.spec,))
        self.timeout = timeout
        self.run_in_thread = run_in_thread
        self._is_async = _is_async_callable(fn)
        self._positional = _positional_only(fn)
        # Name, docstring and __wrapped__ for introspection; never the function's __dict__,
        # which could overwrite this tool's own attributes.
        functools.update_wrapper(self, fn, updated=())

    @property
    def namespace(self) -> ToolNamespace:
        """``ToolNamespace(name=namespace, tools=(spec,))``; the agent merges namespaces."""
        return self._namespace

    @property
    def recipient(self) -> str:
        """The full name the model calls, e.g. ``"functions.get_weather"``."""
        return f"{self._namespace.name}.{self.name}"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"FunctionTool({self.recipient})"

    def validate(self, arguments: str | Mapping[str, Any]) -> dict[str, Any]:
        """The validated keyword arguments for the function, from JSON text or a mapping.

        Raises :class:`~harmony_agent.ToolError` with a message for the model.
        """
        try:
            if isinstance(arguments, str):
                model = self.arguments_model.model_validate_json(arguments.strip() or "{}")
            else:
                model = self.arguments_model.model_validate(arguments)
        except ValidationError as exc:
            raise ToolError(_describe(exc, self.recipient, self._param_list)) from None
        return {param: getattr(model, attr) for param, attr in self._params.items()}

    async def invoke(self, kwargs: Mapping[str, Any]) -> Any:
        """Call the function with validated arguments (a thread for sync ones, if asked)."""
        args, rest = _split_positional(self._positional, kwargs)
        if self._is_async:
            return await self.fn(*args, **rest)  # type: ignore[misc]
        if self.run_in_thread:
            result: Any = await asyncio.to_thread(self.fn, *args, **rest)
        else:
            result = self.fn(*args, **rest)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def call(self, call: ToolCall) -> list[Message]:
        """Validate the call's JSON arguments, run the function, reply with its result."""
        result = await self.invoke(self.validate(call.arguments))
        return [call.reply(result_text(result))]


@overload
def tool(fn: Callable[P, R], /) -> FunctionTool[P, R]: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    namespace: str = "functions",
    timeout: float | None = None,
    run_in_thread: bool = True,
) -> Callable[[Callable[P, R]], FunctionTool[P, R]]: ...
def tool(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    namespace: str = "functions",
    timeout: float | None = None,
    run_in_thread: bool = True,
) -> FunctionTool[P, R] | Callable[[Callable[P, R]], FunctionTool[P, R]]:
    """Turn a typed function into a :class:`FunctionTool`; use bare or with options.

    Example:
        >>> @tool
        ... def add(a: int, b: int) -> int:
        ...     '''Add two integers.
        ...
        ...     Args:
        ...         a: the first term.
        ...         b: the second term.
        ...     '''
        ...     return a + b
        >>> add.recipient, add(1, 2)
        ('functions.add', 3)
    """

    def wrap(f: Callable[P, R]) -> FunctionTool[P, R]:
        return FunctionTool(
            f,
            name=name,
            description=description,
            namespace=namespace,
            timeout=timeout,
            run_in_thread=run_in_thread,
        )

    return wrap if fn is None else wrap(fn)


def as_tool(obj: Tool | Callable[..., Any]) -> Tool:
    """A :class:`Tool` as is; a plain function wrapped in a :class:`FunctionTool`."""
    if isinstance(obj, Tool):
        return obj
    if callable(obj):
        return FunctionTool(obj)
    raise ToolError(f"a tool must be a Tool or a function, got {type(obj).__name__}: {obj!r}")


def result_text(value: object) -> str:
    """How a function's return value reads to the model.

    Strings as they are; everything else as compact JSON (pydantic models, dataclasses,
    dicts, lists, numbers, dates, None as ``null``); objects JSON cannot express as
    their ``str()``.
    """
    if isinstance(value, str):
        return value
    return pydantic_core.to_json(value, fallback=str).decode()


# -- arguments model ------------------------------------------------------------------
def _arguments_model(
    name: str, fn: Callable[..., Any], docs: Mapping[str, str]
) -> tuple[type[BaseModel], dict[str, str]]:
    """A pydantic model of ``fn``'s parameters, and parameter name -> model attribute."""
    try:
        signature = inspect.signature(fn, eval_str=True)
    except NameError as exc:
        raise ToolError(f"cannot resolve the type hints of tool {name!r}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ToolError(f"cannot read the signature of tool {name!r}: {exc}") from None
    fields: dict[str, Any] = {}
    attrs: dict[str, str] = {}
    for i, param in enumerate(signature.parameters.values()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ToolError(
                f"tool {name!r}: parameter {param.name!r} is variadic; name every parameter "
                "so it can be described to the model"
            )
        annotation = Any if param.annotation is param.empty else param.annotation
        default = ... if param.default is param.empty else param.default
        doc = docs.get(param.name)
        info = Field(default) if doc is None or _has_description(annotation) else None
        if info is None:
            info = Field(default, description=doc)
        # Parameter names that clash with BaseModel's own attributes get a safe attribute
        # and keep their name as the alias (what the schema shows and the model sends).
        attr = param.name
        if attr.startswith("_") or hasattr(BaseModel, attr):
            attr = f"arg{i}_"
            info = Field(default, description=info.description, alias=param.name)
        fields[attr] = (annotation, info)
        attrs[param.name] = attr
    try:
        model = create_model(f"{name}_arguments", __config__=_ARGUMENTS_CONFIG, **fields)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        raise ToolError(f"tool {name!r}: cannot build an argument schema: {exc}") from None
    return model, attrs


def _has_description(annotation: Any) -> bool:
    if get_origin(annotation) is not Annotated:
        return False
    return any(isinstance(a, FieldInfo) and a.description for a in get_args(annotation)[1:])


def _parameters_schema(model: type[BaseModel]) -> dict[str, Any] | None:
    """The JSON Schema of the arguments, without pydantic's titles; None for no arguments."""
    if not model.model_fields:
        return None
    with warnings.catch_warnings():
        # A default JSON cannot express is left out of the schema, which is what we want.
        warnings.simplefilter("ignore", PydanticJsonSchemaWarning)
        try:
            schema = model.model_json_schema()
        except PydanticUserError as exc:  # pragma: no cover - types pydantic cannot describe
            raise ToolError(f"cannot describe the arguments of {model.__name__}: {exc}") from None
    out = _strip_titles(schema)
    assert isinstance(out, dict)
    return out


def _strip_titles(node: Any, in_map: bool = False) -> Any:
    """Drop ``title`` keys of schema objects (not properties that happen to be called so)."""
    if isinstance(node, list):
        return [_strip_titles(item) for item in node]
    if not isinstance(node, dict):
        return node
    if in_map:  # {name: schema} maps: properties, $defs, patternProperties
        return {k: _strip_titles(v) for k, v in node.items()}
    return {
        k: _strip_titles(v, in_map=k in ("properties", "$defs", "definitions", "patternProperties"))
        for k, v in node.items()
        if k != "title" or not isinstance(v, str)
    }


def _split_positional(
    positional: tuple[str, ...], kwargs: Mapping[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    if not positional:
        return [], dict(kwargs)
    rest = dict(kwargs)
    return [rest.pop(name) for name in positional if name in rest], rest


def _positional_only(fn: Callable[..., Any]) -> tuple[str, ...]:
    params = inspect.signature(fn).parameters.values()
    return tuple(p.name for p in params if p.kind is p.POSITIONAL_ONLY)


def _is_async_callable(fn: Callable[..., Any]) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(type(fn), "__call__", None)  # noqa: B004 - callable objects
    return call is not None and not inspect.isfunction(fn) and inspect.iscoroutinefunction(call)


# -- validation errors for the model ------------------------------------------------------
def _describe(exc: ValidationError, recipient: str, params: str) -> str:
    lines: list[str] = []
    list_params = False
    for err in exc.errors(include_url=False):
        kind, loc, msg = err["type"], err["loc"], err["msg"]
        if kind == "json_invalid":
            detail = msg.removeprefix("Invalid JSON: ")
            return (
                f"arguments for {recipient} are not valid JSON ({detail}). "
                "Send a single JSON object with the parameters and call again."
            )
        if not loc:
            return (
                f"arguments for {recipient} must be a JSON object of named parameters, "
                f"got {_json_kind(err['input'])}. Fix the arguments and call again."
            )
        path = ".".join(str(part) for part in loc)
        if kind == "missing":
            lines.append(f"- {path}: missing required argument")
            list_params = list_params or len(loc) == 1
        elif kind == "extra_forbidden":
            lines.append(f"- {path}: unexpected argument")
            list_params = list_params or len(loc) == 1
        else:
            lines.append(f"- {path}: {msg} (got {_short(err['input'])})")
    text = f"invalid arguments for {recipient}:\n" + "\n".join(lines)
    if list_params:
        text += f"\nParameters: {params}."
    return text + f"\nFix the arguments and call {recipient} again."


def _json_kind(value: object) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    return "null" if value is None else type(value).__name__


def _short(value: object, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
