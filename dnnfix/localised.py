"""Operating-system messages in the user's language, read as their English originals (issue 10, family 1).

The frameworks print English, but some of what a paste shows comes from the operating system in the language the
machine runs in: glibc's dlerror() and strerror() texts inside an ImportError or a TensorFlow loader line, the
shell's report of a signal ("Killed", "Segmentation fault (core dumped)"), Windows' system error texts after
"DLL load failed" or "[WinError 1455]". Signatures are written against the English texts, so each localised text
below maps to its English original: the matcher adds the line with the English text beside the line as pasted
(dnnfix/matcher.py), and the log-end symptom is read in English (dnnfix/envreport.py).

The texts are those of the message catalogs (glibc's and bash's .po files, Windows' system messages) for the
languages seen in public threads; a text missing here only means that line is read as pasted.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from .normalize import LazyRe

# English original -> its translations (de, fr, es, it, pt_BR, ru, zh_CN, zh_TW, ja, ko, where known)
_OS_TEXTS: Dict[str, Tuple[str, ...]] = {
    # glibc dlerror()
    "cannot open shared object file": (
        "kann die gemeinsame Objektdatei nicht öffnen",
        "ne peut ouvrir le fichier d'objet partagé",
        "no se puede abrir el fichero del objeto compartido",
        "impossibile aprire il file oggetto condiviso",
        "não é possível abrir arquivo de objeto compartilhado",
        "не удаётся открыть разделяемый объектный файл",
        "не удаётся открыть файл совместно используемого объекта",
        "无法打开共享对象文件",
        "無法開啟共享目的檔案",
        "共有オブジェクトファイルを開けません",
        "공유 오브젝트 파일을 열 수 없습니다",
    ),
    # glibc strerror()
    "No such file or directory": (
        "Datei oder Verzeichnis nicht gefunden",
        "Aucun fichier ou dossier de ce type",
        "No existe el archivo o el directorio",
        "No existe el fichero o el directorio",
        "File o directory non esistente",
        "Arquivo ou diretório inexistente",
        "Arquivo ou diretório não encontrado",
        "Нет такого файла или каталога",
        "没有那个文件或目录",
        "沒有此一檔案或目錄",
        "そのようなファイルやディレクトリはありません",
        "그런 파일이나 디렉터리가 없습니다",
    ),
    "No space left on device": (
        "Auf dem Gerät ist kein Speicherplatz mehr verfügbar",
        "Aucun espace disponible sur le périphérique",
        "No queda espacio en el dispositivo",
        "Spazio esaurito sul device",
        "Não há espaço disponível no dispositivo",
        "На устройстве не осталось свободного места",
        "设备上没有空间",
        "裝置上已無多餘空間",
        "デバイスに空き領域がありません",
        "장치에 남은 공간이 없음",
    ),
    "Permission denied": (
        "Keine Berechtigung",
        "Permission non accordée",
        "Permiso denegado",
        "Permesso negato",
        "Permissão negada",
        "Отказано в доступе",
        "权限不够",
        "拒絕不符權限的操作",
        "許可がありません",
        "허가 거부",
    ),
    "Cannot allocate memory": (
        "Kann nicht genügend Speicher belegen",
        "Impossible d'allouer de la mémoire",
        "No se puede asignar memoria",
        "Impossibile allocare memoria",
        "Não foi possível alocar memória",
        "Невозможно выделить память",
        "无法分配内存",
        "無法配置記憶體",
        "メモリを確保できません",
        "메모리를 할당할 수 없습니다",
    ),
    "Connection refused": (
        "Verbindungsaufbau abgelehnt",
        "Connexion refusée",
        "Conexión rehusada",
        "Connessione rifiutata",
        "Conexão recusada",
        "В соединении отказано",
        "拒绝连接",
        "連線被拒絕",
        "接続を拒否されました",
        "연결이 거부됨",
    ),
    "Connection timed out": (
        "Die Wartezeit für die Verbindung ist abgelaufen",
        "Délai d'attente de la connexion dépassé",
        "Expiró el tiempo de conexión",
        "Connessione scaduta",
        "Tempo esgotado para conexão",
        "Время ожидания соединения истекло",
        "连接超时",
        "連線逾時",
        "接続がタイムアウトしました",
        "연결 시간 초과",
    ),
    "Temporary failure in name resolution": (
        "Temporärer Fehler bei der Namensauflösung",
        "Échec temporaire dans la résolution du nom",
        "Fallo temporal en la resolución del nombre",
        "Errore temporaneo nella risoluzione del nome",
        "Falha temporária na resolução de nome",
        "Временный сбой в разрешении имён",
        "域名解析暂时失败",
        "暫時無法解析名稱",
        "名前解決に一時的に失敗しました",
        "이름 해석에 일시적 실패",
    ),
    # Windows system error texts (after "DLL load failed ..." or "[WinError N]")
    "The specified module could not be found": (
        "Das angegebene Modul wurde nicht gefunden",
        "Le module spécifié est introuvable",
        "No se puede encontrar el módulo especificado",
        "Impossibile trovare il modulo specificato",
        "Não foi possível encontrar o módulo especificado",
        "Не найден указанный модуль",
        "找不到指定的模块",
        "找不到指定的模組",
        "指定されたモジュールが見つかりません",
        "지정된 모듈을 찾을 수 없습니다",
    ),
    "The specified procedure could not be found": (
        "Die angegebene Prozedur wurde nicht gefunden",
        "La procédure spécifiée est introuvable",
        "No se encontró el proceso especificado",
        "Impossibile trovare la procedura specificata",
        "Não foi possível encontrar o procedimento especificado",
        "Не найдена указанная процедура",
        "找不到指定的程序",
        "指定されたプロシージャが見つかりません",
        "지정된 프로시저를 찾을 수 없습니다",
    ),
    "A dynamic link library (DLL) initialization routine failed": (
        "Eine DLL-Initialisierungsroutine ist fehlgeschlagen",
        "Une routine d'initialisation d'une bibliothèque de liens dynamiques (DLL) a échoué",
        "Error en una rutina de inicialización de biblioteca de vínculos dinámicos (DLL)",
        "Routine di inizializzazione della libreria di collegamento dinamico (DLL) non riuscita",
        "Falha em uma rotina de inicialização de DLL (biblioteca de vínculo dinâmico)",
        "Произошел сбой в программе инициализации библиотеки динамической компоновки (DLL)",
        "动态链接库(DLL)初始化例程失败",
        "動態連結程式庫 (DLL) 初始化例行程序失敗",
        "ダイナミック リンク ライブラリ (DLL) 初期化ルーチンの実行に失敗しました",
        "DLL 초기화 루틴을 실행할 수 없습니다",
    ),
    "The paging file is too small for this operation to complete": (
        "Die Auslagerungsdatei ist zu klein, um diesen Vorgang durchzuführen",
        "Le fichier de pagination est insuffisant pour terminer cette opération",
        "El archivo de paginación es demasiado pequeño para completar la operación",
        "File di paging insufficiente per completare l'operazione",
        "O arquivo de paginação é muito pequeno para que esta operação seja concluída",
        "Файл подкачки слишком мал для завершения операции",
        "页面文件太小，无法完成操作",
        "分页文件太小，无法完成操作",
        "分頁檔太小，無法完成操作",
        "ページング ファイルが小さすぎるため、この操作を完了できません",
        "페이징 파일이 너무 작아 이 작업을 완료할 수 없습니다",
    ),
}

# the shell's report of a signal (glibc strsignal): a line's last words only ("Killed", "... Segmentation fault")
_SIGNALS: Dict[str, Tuple[str, ...]] = {
    "Killed": (
        "Getötet",
        "Processus arrêté",
        "Terminado (killed)",
        "Ucciso",
        "Morto",
        "Убито",
        "已杀死",
        "已砍掉",
        "強制終了",
        "죽었음",
    ),
    "Segmentation fault": (
        "Speicherzugriffsfehler",
        "Erreur de segmentation",
        "Violación de segmento",
        "Errore di segmentazione",
        "Falha de segmentação",
        "Ошибка сегментирования",
        "段错误",
        "程式記憶體區段錯誤",
        "セグメンテーション違反です",
        "세그멘테이션 오류",
    ),
    "Illegal instruction": (
        "Ungültiger Maschinenbefehl",
        "Instruction illégale",
        "Instrucción ilegal",
        "Istruzione non consentita",
        "Instrução ilegal",
        "Недопустимая инструкция",
        "非法指令",
        "不合法的指令",
        "不正な命令です",
        "잘못된 명령",
    ),
    "Aborted": (
        "Abgebrochen",
        "Abandon",
        "Abortado",
        "Abortito",
        "Аварийный останов",
        "已放弃",
        "已中止",
        "中止",
        "중지됨",
    ),
    "Bus error": (
        "Bus-Zugriffsfehler",
        "Erreur du bus",
        "Error del bus",
        "Errore di bus",
        "Erro de barramento",
        "Ошибка шины",
        "总线错误",
        "匯流排錯誤",
        "バスエラー",
        "버스 오류",
    ),
}
# bash's "(core dumped)" after a signal
_CORE = (
    "(Speicherabzug geschrieben)",
    "(Speicherabbild geschrieben)",
    "(`core' generado)",
    "(core dump creato)",
    "(imagem do núcleo gravada)",
    "(образ памяти сброшен на диск)",
    "(стек памяти сброшен на диск)",
    "(核心已转储)",
    "(核心已傾印)",
    "(コアダンプ)",
    "(core dumped)",
    "(코어 덤프됨)",
)


_ENGLISH = frozenset(("error", "directory", "segmentation", "file", "device", "memory", "module", "bus"))


def _key(s: str) -> str:
    """The ASCII word an ASCII text is looked for by: its longest run of [a-z0-9_] (3 letters or more), one that
    English texts seldom hold where there is one ("Error del bus" is looked for by "del", not "error")."""
    words = [w for w in re.findall(r"[a-z0-9_]+", s.lower()) if len(w) >= 3]
    rare = [w for w in words if w not in _ENGLISH]
    return max(rare or words, key=len) if words else ""


# (localised text, English, whether it is a signal report, which counts only at a line's end), looked up by the
# ASCII word that an ASCII text is found by, or by the first non-ASCII character of any other text
_Row = Tuple[str, str, bool]
_BY_KEY: Dict[str, List[_Row]] = {}
_BY_CHAR: Dict[str, List[_Row]] = {}
for _table, _signal in ((_OS_TEXTS, False), (_SIGNALS, True)):
    for _en, _forms in _table.items():
        for _f in _forms:
            if _f.isascii():
                _BY_KEY.setdefault(_key(_f), []).append((_f, _en, _signal))
            else:
                _BY_CHAR.setdefault(next(ch for ch in _f if not ch.isascii()), []).append((_f, _en, _signal))
_PID_BEFORE = LazyRe(r"(?:^|\s)\d+\s+$")
_CORE_RX = LazyRe(r"\s*(?:" + "|".join(re.escape(c) for c in _CORE) + r")?\s*$")


def _candidates(text: str, words: Dict[str, None]) -> List[_Row]:
    """The translations that may be in the text: an ASCII one whose key word it holds, a non-ASCII one whose first
    non-ASCII character it holds (looked for only in a text that is not ASCII)."""
    rows = [r for key, found in _BY_KEY.items() if key in words for r in found]
    if not text.isascii():
        chars = set(text)
        rows += [r for ch, found in _BY_CHAR.items() if ch in chars for r in found]  # in the tables' order
    return rows


def _read(line: str, rows: List[_Row]) -> Optional[str]:
    out = line
    for form, en, signal in rows:
        i = out.find(form)
        if i < 0:
            continue
        if not signal:
            out = out.replace(form, en)
            continue
        # a signal report: the line's last words, after nothing or a space, or bash's job line ("line 3: 123
        # Killed  python x.py"), where the command follows the process id and the signal, or fish's
        # "terminated by signal SIGILL (Illegal instruction)"
        j = i + len(form)
        end = _CORE_RX.match(out, j)
        if i and out[i - 1] == "(" and out[j : j + 1] == ")":  # fish: "terminated by signal SIGILL (...)"
            out = out[:i] + en + out[j:]
            continue
        if i and not out[i - 1].isspace() and not (wide(form) and out[i - 1].isascii()):
            continue  # inside another word (a CJK report may follow ASCII text with no space: "ETA: 26s已杀死")
        if end is not None:
            out = out[:i] + en + (" (core dumped)" if end.group(0).strip() else "")
        elif _PID_BEFORE.search(out, 0, i) and out[j : j + 1].isspace():  # bash's job line: the command follows
            out = out[:i] + en + out[j:]
    return out if out != line else None


def wide(form: str) -> bool:
    """Whether a localised text is written in a CJK script (it may follow ASCII text with no space between)."""
    return ord(form[0]) > 0x2E7F


def signal_forms(names: Tuple[str, ...]) -> List[str]:
    """The translations of the shell's signal reports `names` ("Killed", "Segmentation fault"), as the C library prints
    them in the languages of _SIGNALS (for normalize's reading of a one-line paste's end)."""
    return [form for name in names for form in _SIGNALS.get(name, ())]


def english_line(line: str) -> Optional[str]:
    """The line with each localised OS text read in English, or None when it holds none."""
    from .normalize import words_in_order

    rows = _candidates(line, words_in_order(line.lower()))
    return _read(line, rows) if rows else None


def english_lines(lines: List[str], text: str, words: Dict[str, None]) -> List[Tuple[int, str]]:
    """(index, English reading) of each line that holds a localised OS text. `text`: the lines joined; `words`: its
    lowercase ASCII words (normalize.words_in_order)."""
    rows = _candidates(text, words)
    if not rows:
        return []
    out = []
    for i, ln in enumerate(lines):
        en = _read(ln, rows)
        if en is not None:
            out.append((i, en))
    return out
